"""The calibrations this installation holds, as the Alignment tab shows them: what applies, what was only fitted.

- active: `<data_dir>/calibration/<dimension>.json` (written by `evalverse calibrate --activate`, or when a fit
  meets the ship rule): the judge applies it;
- packaged default: `evalverse/calibration/artifacts/<dimension>.json`, applied where the user has none;
- fitted: every fit `evalverse calibrate` wrote to `<data_dir>/calibration/history/` that is neither of the above.

Each entry is checked against this installation (`check_artifact`): a refused one is listed with its reason,
and `applied` says whether the judge would use it now. Figures are drawn from the artifacts' own reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalverse.errors import DataError
from evalverse.judge import calibration_artifact as CA

STATUS_ORDER = {"active": 0, "packaged default": 1, "fitted": 2}


@dataclass(frozen=True)
class Installed:
    path: Path
    status: str  # active | packaged default | fitted
    artifact: Any  # CalibrationArtifact
    problem: str | None = None  # why it does not apply here (None: it fits this installation)
    shadowed: bool = False  # a packaged default the user's own file for the dimension replaces

    @property
    def applied(self) -> bool:
        """The judge uses it: the dimension's active (or, without one, default) calibration, fitting this install."""
        return self.status != "fitted" and not self.shadowed and self.problem is None

    @property
    def label(self) -> str:
        a = self.artifact
        state = "applied" if self.applied else ("refused" if self.problem else "not applied")
        return f"{a.dimension} vs {a.target.axis.replace('_', ' ')}: {a.id} ({self.status}, {state})"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []


def installed_calibrations(data_dir: str | Path | None, catalogue: Any = None, taxonomy: Any = None) -> list[Installed]:
    """Every readable artifact (unreadable files are skipped: the judge reports those when it meets them)."""
    user = Path(data_dir) / CA.USER_SUBDIR if data_dir is not None else None
    found: list[tuple[Path, str]] = []
    if user is not None:
        found += [(p, "active") for p in _files(user)]
    users = {p.stem for p, _ in found}
    found += [(p, "packaged default") for p in _files(CA.PACKAGED_DIR)]
    if user is not None:
        found += [(p, "fitted") for p in _files(user / "history")]
    out: list[Installed] = []
    seen: set[tuple[str, str]] = set()
    for path, status in found:
        try:
            artifact = CA.read_artifact(path)
        except DataError:
            continue
        if (artifact.id, status) in seen or (status == "fitted" and any(i.artifact.id == artifact.id for i in out)):
            continue  # the active fit is also in the history: list it once
        seen.add((artifact.id, status))
        try:
            CA.check_artifact(artifact, catalogue, taxonomy)
            problem = None
        except CA.CalibrationMismatch as exc:
            problem = str(exc)
        out.append(Installed(path, status, artifact, problem, status == "packaged default" and path.stem in users))
    return sorted(out, key=lambda i: (i.artifact.dimension, STATUS_ORDER[i.status], -i.artifact.created_at.timestamp()))
