"""The coordinate reference systems of the maps, and the one check that guards them.

- Layers are built in :data:`INPUT_CRS` (EPSG:4269, NAD83 lon/lat), the CRS of the
  Census boundaries in :mod:`plan_lib.geo`; account and rep coordinates are read
  as NAD83 too (WGS84 differs by about a metre).
- Areas, buffers and static drawing of the lower 48 use :data:`AREA_CRS`
  (EPSG:5070, Conus Albers equal-area, metres): a km on the scale bar is a km.
- Alaska and Hawaii panels use their own Albers projections.
- Web maps (folium, ipyleaflet) take :data:`WEB_CRS` (EPSG:4326) lon/lat.
"""

from __future__ import annotations

import geopandas as gpd
from pyproj import CRS

from plan_lib import geo
from plan_lib.maps.errors import MapCrsError

INPUT_CRS = geo.SOURCE_CRS
AREA_CRS = geo.EQUAL_AREA_CRS
WEB_CRS = "EPSG:4326"
ALASKA_CRS = "EPSG:3338"  # NAD83 / Alaska Albers
HAWAII_CRS = "ESRI:102007"  # Hawaii Albers equal-area conic


def ensure_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, expected: str, name: str) -> None:
    """Fail unless ``frame`` is tagged with ``expected``.

    Why fail rather than reproject: every builder here produces ``INPUT_CRS``; a layer
    in another CRS (or none) came from somewhere else, and silently guessing is how
    maps end up with territories drawn in degrees or on the wrong continent.
    """
    if frame.crs is None:
        raise MapCrsError(
            f"layer '{name}' has no CRS. Tag it with .set_crs('{expected}') if its "
            f"coordinates are {CRS(expected).name}, or build it with plan_lib.maps.layers."
        )
    if CRS(frame.crs) != CRS(expected):
        raise MapCrsError(
            f"layer '{name}' is in {CRS(frame.crs).to_string()} ({CRS(frame.crs).name}) but "
            f"this step expects {expected} ({CRS(expected).name}). Reproject it first with "
            f".to_crs('{expected}')."
        )
