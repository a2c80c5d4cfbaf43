"""A preview saved for the command that applies it (`policy preview` → `policy apply`, `banks
cut-off-preview` → `banks cut-off`): exactly the `apply` object the server answered, so what is
applied is what was shown."""

import json
from pathlib import Path
from typing import Any

from bourse.cli.console import fail
from bourse.server.datadir import DataDir


def save_preview(preview: dict[str, Any], path: Path | None, data_dir: Path, name: str) -> Path:
    """Save what the apply sends: at `path`, else in the data directory's previews/ folder
    under `name` and the preview's id (never into the working directory, never over another
    preview). The caller prints the path (on stderr under --json)."""
    if path is None:
        path = DataDir(data_dir).previews / f"{name}-{preview['previewId'][:12]}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(preview["apply"], indent=2) + "\n")
    except OSError as exc:
        fail(f"cannot save the preview to {path}: {exc.strerror}")
    return path


def load_preview(path: Path, made_by: str, spec_fields: tuple[str, ...] = ()) -> dict[str, Any]:
    """A saved preview, or a clear failure naming what is wrong with the file: its `spec` must
    be an object, with each of `spec_fields` a non-empty string (what the command reads)."""
    try:
        saved = json.loads(path.read_text())
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        fail(f"{path} is not JSON: {exc}")
    missing = [
        k
        for k in ("spec", "preview_id", "previewed")
        if not isinstance(saved, dict) or k not in saved
    ]
    if missing:
        fail(f"{path} is not a saved preview (from `{made_by}`): no {', '.join(missing)}")
    spec = saved["spec"]
    if not isinstance(spec, dict):
        fail(f"{path} is not a saved preview (from `{made_by}`): its spec is not an object")
    for field in spec_fields:
        if field not in spec:
            fail(f"{path} is not a saved preview (from `{made_by}`): its spec has no {field}")
        if not isinstance(spec[field], str) or not spec[field].strip():
            fail(
                f"{path} is not a saved preview (from `{made_by}`): its spec's {field} "
                f"is {json.dumps(spec[field])}, not a code"
            )
    return dict(saved)
