"""``tqp serve``: the review dashboard on localhost, one personal link per manager.

Voila runs ``notebooks/04_review.ipynb`` in a fresh kernel per page visit. The
store URL and the run folder reach the notebook as environment variables of
the Voila process (kernels inherit them; they never appear in a URL); the
invite token reaches it as the ``invite`` query parameter, which Voila 0.5
passes to the kernel in the ``QUERY_STRING`` environment variable (it does so
when kernels are not pre-heated, which is the default and what we use).

Each kernel costs ~54 MB and stays alive after its tab closes, so idle kernels
are culled (``MappingKernelManager.cull_*``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from plan_lib.review.admin import create_plan_version, find_version, sync_users, version_users
from plan_lib.review.errors import ReviewError
from plan_lib.review.params import ReviewParams
from plan_lib.review.plan import read_plan_base
from plan_lib.review.store import Store, open_store
from plan_lib.review.tokens import invite_token, invite_url, load_secret

NOTEBOOK = "04_review.ipynb"
ENV_STORE = "TQP_REVIEW_STORE_URL"
ENV_RUN = "TQP_REVIEW_RUN_DIR"


def review_notebook() -> Path:
    """The review notebook of the repository (``TQP_NOTEBOOKS`` points elsewhere, e.g. an installed copy)."""
    from plan_lib.runs import notebook_dir

    path = notebook_dir() / NOTEBOOK
    if not path.exists():
        raise ReviewError(f"{path} not found: run from the tqp repository or set TQP_NOTEBOOKS to the folder holding {NOTEBOOK}")
    return path


def voila_command(notebook: Path, port: int, params: ReviewParams | None = None) -> list[str]:
    """The Voila command line: localhost only, no browser, no tracebacks to users, idle kernels culled."""
    params = params or ReviewParams()
    return [
        sys.executable, "-m", "voila", str(notebook),
        f"--port={port}",
        "--no-browser",
        "--Voila.ip=127.0.0.1",
        "--VoilaConfiguration.show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={params.cull_idle_timeout_s}",
        f"--MappingKernelManager.cull_interval={params.cull_interval_s}",
        "--MappingKernelManager.cull_connected=False",
    ]


def kernel_environment(variables: dict[str, str], base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a Voila process (its kernels inherit it) with ``variables`` set."""
    env = {**(os.environ if base is None else base), **variables}
    env.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    return env


def voila_environment(store_url: str, run_dir: str | Path, base: dict[str, str] | None = None) -> dict[str, str]:
    return kernel_environment({ENV_STORE: store_url, ENV_RUN: str(Path(run_dir).resolve())}, base)


def free_port(preferred: int = 0) -> int:
    """``preferred`` if it is free on localhost, else any free port."""
    for candidate in (preferred, 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise ReviewError("no free port on localhost")


@dataclass
class VoilaServer:
    """A running Voila process (its own process group, so its kernels stop with it)."""

    process: subprocess.Popen
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ReviewError(f"Voila exited with code {self.process.returncode} before serving")
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        raise ReviewError(f"Voila did not answer on port {self.port} within {timeout_s:.0f} s")

    def serve_until_interrupted(self, announce: Callable[[], None]) -> int:
        """Wait until ready, ``announce`` (print the links), then serve until Ctrl-C or SIGTERM.

        Voila runs in its own session (so Ctrl-C reaches it once, through us): a SIGTERM
        (a service manager, `timeout`) becomes the same clean stop as Ctrl-C, otherwise
        the server and its kernels would outlive this process.
        """
        previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        try:
            self.wait_ready()
            announce()
            return self.process.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM (Voila shuts its kernels down), then SIGKILL the group if anything lingers."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout_s)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # kernels left in the group, if any
        self.process.wait(timeout_s)


def launch_voila(notebook: Path, env: dict[str, str], *, port: int = 0, params: ReviewParams | None = None,
                 log: Path | None = None) -> VoilaServer:
    """Start Voila serving ``notebook`` with ``env`` (returns once the process is spawned)."""
    port = free_port(port)
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        voila_command(notebook, port, params),
        cwd=notebook.parent,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return VoilaServer(process, port)


def start_voila(store_url: str, run_dir: str | Path, *, port: int = 0, params: ReviewParams | None = None,
                notebook: Path | None = None, log: Path | None = None) -> VoilaServer:
    """Start Voila serving the review notebook for ``run_dir`` (returns once the process is spawned)."""
    return launch_voila(notebook or review_notebook(), voila_environment(store_url, run_dir), port=port, params=params, log=log)


def prepare_review(store: Store, run_dir: str | Path, *, state: str = "review", pilot: Iterable[str] = (),
                   period: str | None = None) -> int:
    """Sync users from the run's reps and make sure a plan version exists for ``run_dir``."""
    base = read_plan_base(run_dir)
    sync_users(store, base.reps)
    version_id = find_version(store, run_dir)
    if version_id is None:
        version_id = create_plan_version(store, run_dir, state=state, pilot=pilot, period=period)
    return version_id


def manager_links(store: Store, version_id: int, base_url: str, days: float) -> dict[str, str]:
    """One personal link per manager the version is open to (its pilot group in state pilot)."""
    return {user.user_id: invite_url(base_url, invite_token(store, user.user_id, days=days)) for user in version_users(store, version_id)}


def serve(store_url: str, run_dir: str | Path, *, params: ReviewParams | None = None, state: str = "review",
          pilot: Iterable[str] = (), echo: Callable[[str], None] = print) -> int:
    """Prepare the store, start Voila, print the links, and serve until interrupted (Ctrl-C)."""
    params = params or ReviewParams()
    load_secret()  # fail now, not in each page, when the secret is unusable
    store = open_store(store_url)
    version_id = prepare_review(store, run_dir, state=state, pilot=pilot)
    server = start_voila(store_url, run_dir, port=params.port, params=params)

    def announce() -> None:
        base_url = f"http://localhost:{server.port}"
        echo(f"review of {Path(run_dir).resolve()} (plan version {version_id}) at {base_url}")
        for user_id, link in manager_links(store, version_id, base_url, params.invite_days).items():
            echo(f"{user_id}\t{link}")
        echo("Ctrl-C stops the server and its kernels")

    try:
        return server.serve_until_interrupted(announce)
    finally:
        store.dispose()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def invite(store_url: str, user_id: str, *, base_url: str = "http://localhost:8866", days: float = 14) -> str:
    """``tqp invite USER``: a personal link for an existing user of the review store."""
    load_secret()
    store = open_store(store_url)
    try:
        return invite_url(base_url, invite_token(store, user_id, days=days))
    finally:
        store.dispose()
