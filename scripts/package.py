"""Packages the built site (www/ with www/pkg and www/models) for course platforms, into dist/:

  diffusion-lab-site.zip     the static site, for any web host (index.html, embed.html, embed-resize.js)
  diffusion-lab-scorm12.zip  a SCORM 1.2 package (imsmanifest.xml at the root, start page scorm.html):
                             the SCORM activity of Moodle and ILIAS runs it without admin rights
  diffusion-lab-ilias.zip    an ILIAS HTML learning module (start file index.html)
  diffusion-lab.h5p          an H5P content type with its library H5P.DiffusionLab-1.0

Learning platforms take only some file types from an upload (ILIAS renames the others, H5P refuses
the package), and neither list has .wasm or .safetensors: the platform packages carry those files
as .wasm.txt and .safetensors.txt, and the manifest, the worker and the service worker name them so.
The bytes and their sha256 stay the same.

  python3 scripts/package.py [--view "lang=de&prompt=Ein Hund im Park&lock=prompt"] [--title T]

--view sets the widget's first view in every package (the names of embed.html's URL parameters).
Each package's folder stays beside its zip (dist/scorm12/, ...) to be served and tested as it is.
"""

import argparse
import html
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
WWW = ROOT / "www"
TEMPLATES = ROOT / "scripts" / "package"

# What the site needs besides the files the service worker lists (the bench is for developers).
SITE_EXTRA = ["sw.js", "embed-resize.js", "examples"]
# The file types the platforms accept that these packages use (ILIAS: ilFileUtils' default
# list; H5P: H5PCore's content list plus js and css for libraries).
ILIAS_TYPES = {"html", "js", "css", "json", "png", "txt", "md", "xml"}
H5P_TYPES = {"js", "css", "json", "png", "txt", "md"}
RENAMED = {".wasm": ".wasm.txt", ".safetensors": ".safetensors.txt"}
H5P_LIBRARY = "H5P.DiffusionLab-1.0"
# Page files the H5P library leaves out: H5P itself is the page (and takes no .html).
H5P_LEAVE_OUT = {
    "index.html", "embed.html", "page.js", "embed.js", "embed-height.js", "embed-resize.js", "embed.css", "sw.js", "sw-register.js", "style.css",
}


def view_attributes():
    """The names embed.html takes from its URL: VIEW_ATTRIBUTES of www/diffusion-lab.js, lang,
    autorun and backend."""
    source = (WWW / "diffusion-lab.js").read_text()
    block = re.search(r"VIEW_ATTRIBUTES = Object\.freeze\(\[([^\]]*)\]", source)
    return ["lang", "autorun", "backend"] + re.findall(r"'([a-z-]+)'", block.group(1))


def parse_view(text):
    allowed = view_attributes()
    view = {}
    for name, value in parse_qsl(text or "", keep_blank_values=True):
        if name not in allowed:
            sys.exit(f"package: --view: unknown setting {name!r} (allowed: {', '.join(allowed)})")
        view[name] = value
    return view


def element_tag(view, extra=""):
    attributes = "".join(f' {name}="{html.escape(value)}"' for name, value in view.items())
    return f"<diffusion-lab{attributes}{extra}>"


def site_files():
    """Relative paths of every file of the site: the service worker's list, the models the manifest names, SITE_EXTRA."""
    sw = (WWW / "sw.js").read_text()
    listed = re.findall(r"'([^']+)'", re.search(r"const PAGE_FILES = \[([^\]]*)\]", sw).group(1))
    files = [f for f in listed if f != "./"] + ["sw.js", "embed-resize.js"]
    manifest = json.loads((WWW / "models" / "manifest.json").read_text())
    files += ["models/manifest.json"] + [f"models/{entry['name']}" for entry in manifest["files"]]
    files += [str(p.relative_to(WWW)) for p in sorted((WWW / "examples").iterdir()) if p.is_file()]
    missing = [f for f in files if not (WWW / f).is_file()]
    if missing:
        sys.exit(f"package: missing {', '.join(missing)}: run scripts/build.sh (and scripts/setup.sh) first")
    return sorted(set(files))


def copy_site(files, out, platform):
    """Copies the site into `out`; for a platform, with the renamed binaries and the files that name them."""
    if out.exists():
        shutil.rmtree(out)
    renames = {}
    for rel in files:
        target = rel
        if platform:
            for old, new in RENAMED.items():
                if rel.endswith(old):
                    target = rel[: -len(old)] + new
        renames[rel] = target
        (out / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WWW / rel, out / target)
    if platform:
        rewrite_names(out, renames)
    return sorted(renames.values())


def rewrite_names(out, renames):
    moved = {old: new for old, new in renames.items() if old != new}
    # the manifest's file names (the Lab checks sha256, not names)
    path = out / "models" / "manifest.json"
    manifest = json.loads(path.read_text())
    short = {Path(o).name: Path(n).name for o, n in moved.items() if o.startswith("models/")}
    for entry in manifest["files"]:
        entry["name"] = short.get(entry["name"], entry["name"])
    for part in manifest.values():
        if isinstance(part, dict):
            for key, value in part.items():
                part[key] = short.get(value, value)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    # the worker's and the service worker's own references to the wasm binary
    wasm = "pkg/diffusion_lab_bg.wasm"
    for name, quoted in [("worker.js", f"'./{wasm}'"), ("sw.js", f"'{wasm}'")]:
        if not (out / name).exists():
            continue
        text = (out / name).read_text()
        if text.count(quoted) != 1:
            sys.exit(f"package: {name} should name {quoted} once")
        (out / name).write_text(text.replace(quoted, quoted.replace(wasm, moved[wasm])))


def check_types(files, allowed, what):
    bad = [f for f in files if Path(f).suffix.lstrip(".").lower() not in allowed]
    if bad:
        sys.exit(f"package: {what} would refuse {', '.join(bad)}")


def write_zip(folder, path):
    """A zip of `folder`'s files, named relative to it, in a stable order."""
    path.unlink(missing_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for f in sorted(p for p in folder.rglob("*") if p.is_file()):
            z.write(f, f.relative_to(folder).as_posix())
    return path


def scorm_manifest(files, title):
    entries = "\n".join(f'      <file href="{html.escape(f)}"/>' for f in files)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="diffusion-lab" version="1.0"
          xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xsi:schemaLocation="http://www.imsproject.org/xsd/imscp_rootv1p1p2 imscp_rootv1p1p2.xsd http://www.adlnet.org/xsd/adlcp_rootv1p2 adlcp_rootv1p2.xsd">
  <metadata>
    <schema>ADL SCORM</schema>
    <schemaversion>1.2</schemaversion>
  </metadata>
  <organizations default="diffusion-lab-org">
    <organization identifier="diffusion-lab-org">
      <title>{html.escape(title)}</title>
      <item identifier="diffusion-lab-item" identifierref="diffusion-lab-sco" isvisible="true">
        <title>{html.escape(title)}</title>
      </item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="diffusion-lab-sco" type="webcontent" adlcp:scormtype="sco" href="scorm.html">
{entries}
    </resource>
  </resources>
</manifest>
"""


def package_scorm(files, dist, view, title):
    out = dist / "scorm12"
    copied = copy_site(files, out, platform=True)
    page = (TEMPLATES / "scorm.html").read_text().replace("<diffusion-lab ATTRIBUTES>", element_tag(view))
    (out / "scorm.html").write_text(page)
    shutil.copyfile(TEMPLATES / "scorm.js", out / "scorm.js")
    copied += ["scorm.html", "scorm.js"]
    check_types(copied, ILIAS_TYPES, "ILIAS")
    (out / "imsmanifest.xml").write_text(scorm_manifest(sorted(copied), title))
    return write_zip(out, dist / "diffusion-lab-scorm12.zip")


def package_ilias(files, dist, view):
    out = dist / "ilias"
    copied = copy_site(files, out, platform=True)
    check_types(copied, ILIAS_TYPES, "ILIAS")
    if view:
        index = (out / "index.html").read_text()
        tags = re.findall(r"<diffusion-lab[^>]*>", index)
        if len(tags) != 1:
            sys.exit("package: index.html should hold one <diffusion-lab> element")
        (out / "index.html").write_text(index.replace(tags[0], element_tag(view, " autoload")))
    return write_zip(out, dist / "diffusion-lab-ilias.zip")


def package_h5p(files, dist, view, title):
    out = dist / "h5p"
    library = out / H5P_LIBRARY
    widget_files = [f for f in files if f not in H5P_LEAVE_OUT]
    copy_site(widget_files, library / "widget", platform=True)
    for name in ["h5p-diffusion-lab.js", "h5p-diffusion-lab.css", "semantics.json"]:
        shutil.copyfile(TEMPLATES / name, library / name)
    (library / "library.json").write_text(json.dumps({
        "title": "Diffusion Lab",
        "description": "Text-to-picture diffusion in the browser, every denoising step shown (reverse and forward process).",
        "machineName": "H5P.DiffusionLab",
        "majorVersion": 1, "minorVersion": 0, "patchVersion": 0,
        "runnable": 1,
        "author": "diffusion-lab",
        "license": "MIT",
        "embedTypes": ["iframe"],
        "coreApi": {"majorVersion": 1, "minorVersion": 24},
        "preloadedJs": [{"path": "h5p-diffusion-lab.js"}],
        "preloadedCss": [{"path": "h5p-diffusion-lab.css"}],
    }, indent=2) + "\n")
    (out / "h5p.json").write_text(json.dumps({
        "title": title,
        "language": view.get("lang", "und"),
        "mainLibrary": "H5P.DiffusionLab",
        "embedTypes": ["iframe"],
        "license": "U",
        "preloadedDependencies": [{"machineName": "H5P.DiffusionLab", "majorVersion": "1", "minorVersion": "0"}],
    }, indent=2) + "\n")
    (out / "content").mkdir(exist_ok=True)
    params = {"lang": "de", "mode": "reverse", "prompt": "Hund", **view}
    (out / "content" / "content.json").write_text(json.dumps(params, ensure_ascii=False, indent=2) + "\n")
    everything = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    check_types(everything, H5P_TYPES, "H5P")
    return write_zip(out, dist / "diffusion-lab.h5p")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--view", default="", help="the first view, as embed.html's URL parameters")
    ap.add_argument("--title", default="Diffusion Lab")
    ap.add_argument("--out", default=str(ROOT / "dist"))
    a = ap.parse_args()
    view = parse_view(a.view)
    dist = Path(a.out)
    dist.mkdir(parents=True, exist_ok=True)
    files = site_files()
    site = dist / "site"
    copy_site(files, site, platform=False)
    made = [write_zip(site, dist / "diffusion-lab-site.zip"), package_scorm(files, dist, view, a.title),
            package_ilias(files, dist, view), package_h5p(files, dist, view, a.title)]
    for path in made:
        print(f"[package] {path.relative_to(dist.parent) if dist.parent in path.parents else path}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
