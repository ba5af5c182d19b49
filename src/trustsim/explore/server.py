"""Starting the explorer: Streamlit on 127.0.0.1, headless without a display, nothing sent anywhere.

Use `serve(preset, port, people, directory)` (the `trustsim explore` command). It checks what the
user gave (the preset, a free port, the directory) before anything starts, prints the address, then
runs Streamlit's own command line in a child process with the page's settings in the environment.
The options turn off what could reach beyond the machine: usage statistics, the browser opened on
a machine without a display, and the file watcher; the page itself loads only Streamlit's
bundled assets (Plotly included) from this server.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from trustsim.errors import UserError
from trustsim.scenario.loading import load_scenario

APP = Path(__file__).with_name("app.py")
HOST = "127.0.0.1"
DEFAULT_PORT = 8501
INSTALL = "pip install 'trustsim[explore]'"


def has_display() -> bool:
    """Whether a browser could open here: always on macOS and Windows, with X or Wayland on Linux."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def options(port: int, headless: bool) -> dict[str, str]:
    """Streamlit's settings for the explorer, as its command line takes them."""
    return {
        "server.address": HOST,
        "server.port": str(port),
        "server.headless": str(headless).lower(),
        "server.fileWatcherType": "none",
        "server.runOnSave": "false",
        "browser.gatherUsageStats": "false",
        "browser.serverAddress": HOST,
        "browser.serverPort": str(port),
        "client.toolbarMode": "viewer",
        "client.showErrorDetails": "none",
        "global.developmentMode": "false",
        "theme.base": "light",
    }


def command(port: int, headless: bool) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            *(f"--{key}={value}" for key, value in options(port, headless).items())]


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # e.g. a name too long for the file system: no directory there
        return False


def serve(preset: str, port: int | None, people: int, directory: Path | None) -> int:
    """Run the explorer until interrupted; returns Streamlit's exit code."""
    if importlib.util.find_spec("streamlit") is None:
        raise UserError(f"explore: Streamlit is not installed; install the explorer with: {INSTALL}")
    load_scenario(preset)  # a wrong name is one line now, not an error on the page
    if directory is not None and not _is_dir(directory):
        raise UserError(f"--dir {directory}: no such directory; allowed: a results directory (trustsim run --out DIR)")
    if port is None:
        port = DEFAULT_PORT if port_free(DEFAULT_PORT) else free_port()
    elif not port_free(port):
        raise UserError(f"--port {port}: the port is in use; allowed: a free port, or leave --port out")
    env = dict(os.environ, TRUSTSIM_EXPLORE_PRESET=preset, TRUSTSIM_EXPLORE_PEOPLE=str(people))
    if directory is not None:
        env["TRUSTSIM_EXPLORE_DIR"] = str(directory.resolve())
    print(f"trustsim explore: {preset} at http://{HOST}:{port} (Ctrl+C stops it)", flush=True)
    child = subprocess.Popen(command(port, headless=not has_display()), env=env)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())  # stopping trustsim stops the server
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        return child.wait()
