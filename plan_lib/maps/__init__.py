"""Territory maps: static PNGs for every run folder, interactive maps for the dashboards.

Modules, one job each:

- :mod:`.locate`: place accounts by coordinates or postal code; list the rest;
- :mod:`.layers`: GeoDataFrames of points, homes, outlines, zones, moves, attainment;
- :mod:`.static` (on :mod:`.canvas`): matplotlib maps in an equal-area projection;
- :mod:`.interactive`: folium and ipyleaflet maps (tooltips, selection for review);
- :mod:`.monitor_widget`: the monitoring dashboard's map (zones by measure, books by pace);
- :mod:`.api`: which maps each pipeline step writes, and writing them;
- :mod:`.params`, :mod:`.errors`, :mod:`.crs`, :mod:`.boundaries`, :mod:`.style`: support.

Typical use from a step::

    from plan_lib.maps import write_run_maps
    paths = write_run_maps(accounts, reps, assignments, books, run.path / "maps", kind="balance")
"""

from plan_lib.maps.api import render_maps, write_layer_maps, write_run_maps
from plan_lib.maps.errors import MapCrsError, MapInputError, MapTooLargeError
from plan_lib.maps.layers import MapLayers, build_layers
from plan_lib.maps.locate import Location, locate_accounts
from plan_lib.maps.params import MapParams

__all__ = [
    "Location",
    "MapCrsError",
    "MapInputError",
    "MapLayers",
    "MapParams",
    "MapTooLargeError",
    "build_layers",
    "locate_accounts",
    "render_maps",
    "write_layer_maps",
    "write_run_maps",
]
