"""Measuring a running Nido from outside: start it, read its log lines as they arrive,
and sample its CPU time and resident memory from /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.core import uris
from app.core.connection import ConnectionSpec
from app.core.settings import Settings, save

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def write_settings(config_home: Path, specs: list[ConnectionSpec], thumbnails: bool = True) -> None:
    save(Settings(connections=specs, thumbnails=thumbnails), config_home / "nido" / "settings.json")


def custom(uri: str, name: str = "") -> ConnectionSpec:
    return ConnectionSpec(kind=uris.Kind.CUSTOM, uri=uri, name=name)


class RunningNido:
    """A Nido process whose --debug log lines are timestamped as they arrive."""

    def __init__(self, env: dict[str, str], args: list[str] = ()) -> None:
        self.lines: list[tuple[float, str]] = []
        self.cond = threading.Condition()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--debug", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append((time.monotonic() - self.t0, line.rstrip()))
                self.cond.notify_all()

    def wait_for(self, text: str, timeout: float) -> float:
        """Seconds from launch until a log line containing `text` arrived."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines:
                    if text in line:
                        return t
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    tail = "\n".join(line for _, line in self.lines[-15:])
                    raise TimeoutError(f"no {text!r} within {timeout} s; log tail:\n{tail}")
                self.cond.wait(min(left, 0.2))

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def thread_cpu(self) -> dict[str, float]:
        """CPU seconds so far per thread name (Python names threads via prctl? no: these are
        the kernel's comm names, which Python sets from Thread.name on Linux 3.11+)."""
        out: dict[str, float] = {}
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICKS
        return out

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def idle_cpu_percent(self, seconds: float) -> float:
        c0, t0 = self.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        c1, t1 = self.cpu_seconds(), time.monotonic()
        return (c1 - c0) / (t1 - t0) * 100

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def bench_env(base: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        d = base / name.lower()
        d.mkdir(parents=True, exist_ok=True)
        env[name] = str(d)
    runtime = base / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def dump(obj: object) -> str:
    return json.dumps(obj, indent=2)
