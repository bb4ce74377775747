#!/usr/bin/env python3
"""Offline checks of k8s/containers/Containerfile.* (no build, no network): what the
images need and what issues 13 and 16 found missing. TAP output.

  tests/containers/check-containerfiles.py [SOURCE_ROOT]

GPU image (16.6): curand dev+runtime, the CUDA stub libcuda on the link path for
darknet and for meson's checks but never in the runtime stage, the darknet fork
pinned by a commit fetched by hash, kernels for sm_75/80/86/89/90 within what the
CUDA version compiles. Edge image (16.2): an H.264/H.265 decoder, no OpenCV/darknet.
CPU inference image (16.5): OpenCV DNN + Debian's libdarknet, no CUDA. All three:
the base image as a build ARG defaulting to debian:12-slim (13).
"""
import glob
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
    "EDGEFAAS_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
results = []


def check(desc, cond, detail=""):
    results.append((bool(cond), desc, detail))


def read(name):
    path = os.path.join(root, "k8s", "containers", name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read()


def instructions(text):
    """(keyword, argument) per instruction, continuation lines joined, comments out."""
    lines, cur = [], ""
    for raw in text.split("\n"):
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        kw, _, arg = cur.partition(" ")
        lines.append((kw.upper(), arg.strip()))
        cur = ""
    return lines


def stages(instrs):
    """[(from_argument, [instructions])] one per FROM."""
    out = []
    for kw, arg in instrs:
        if kw == "FROM":
            out.append((arg, []))
        elif out:
            out[-1][1].append((kw, arg))
    return out


def args_defaults(instrs):
    d = {}
    for kw, arg in instrs:
        if kw == "ARG" and "=" in arg:
            k, _, v = arg.partition("=")
            d[k.strip()] = v.strip().strip('"')
    return d


def deps_groups():
    groups = {}
    with open(os.path.join(root, "scripts", "deps.txt")) as f:
        for line in f:
            p = line.split()
            if p and not p[0].startswith("#") and len(p) >= 2:
                groups.setdefault(p[0], []).append(p[1])
    return groups


def runs(stage):
    return "\n".join(a for k, a in stage[1] if k == "RUN")


def install_groups(stage):
    return [g for m in re.finditer(r"install-deps\.sh((?:\s+[a-z][a-z0-9-]*)+)", runs(stage))
            for g in m.group(1).split()]


groups = deps_groups()

# ---- all images: base image as a build argument --------------------------------
for name in ("Containerfile.edge", "Containerfile.inference", "Containerfile.gpu"):
    text = read(name)
    check(f"{name} exists", text is not None)
    if text is None:
        continue
    ins = instructions(text)
    defaults = args_defaults([i for i in ins if i[0] == "ARG"])
    check(f"{name}: ARG BASE_IMAGE defaults to docker.io/library/debian:12-slim",
          defaults.get("BASE_IMAGE") == "docker.io/library/debian:12-slim",
          f"BASE_IMAGE={defaults.get('BASE_IMAGE')}")
    stage_names = {re.split(r"\s+[Aa][Ss]\s+", a)[-1] for a, _ in stages(ins) if re.search(r"\s[Aa][Ss]\s", a)}
    froms = [re.split(r"\s+[Aa][Ss]\s+", a)[0] for a, _ in stages(ins)]
    external = [f for f in froms if f not in stage_names]
    check(f"{name}: every external FROM is ${{BASE_IMAGE}}",
          external and all(f == "${BASE_IMAGE}" for f in external), f"FROM {external}")
    # A COPY from the build context (the repository root) whose source was
    # moved or deleted fails only at build time, minutes in: catch it here.
    missing = []
    for kw, arg in ins:
        if kw != "COPY" or arg.startswith("--from"):
            continue
        words = [w for w in arg.split() if not w.startswith("--")]
        for src in words[:-1]:
            if not glob.glob(os.path.join(root, src)):
                missing.append(src)
    check(f"{name}: every COPY source exists in the repository", not missing,
          f"missing: {missing}")

# ---- edge: H.264/H.265 decoding, still small ------------------------------------
text = read("Containerfile.edge")
if text:
    st = stages(instructions(text))
    rt = [g for g in install_groups(st[-1])]
    pkgs = [p for g in rt for p in groups.get(g, [])]
    check("edge runtime installs gstreamer1.0-libav (avdec_h264, avdec_h265)",
          "gstreamer1.0-libav" in pkgs, f"runtime groups {rt}")
    check("edge runtime installs plugins-good (qtdemux, matroskademux, rtph264/5depay)",
          "gstreamer1.0-plugins-good" in pkgs)
    bad = [p for p in pkgs if re.search(r"opencv|darknet|cuda", p)]
    check("edge runtime has no OpenCV/darknet/CUDA", not bad, f"{bad}")

# ---- CPU inference: OpenCV DNN + Debian's darknet, no CUDA ----------------------
text = read("Containerfile.inference")
if text:
    st = stages(instructions(text))
    rt = install_groups(st[-1])
    pkgs = [p for g in rt for p in groups.get(g, [])]
    check("inference-cpu runtime has libopencv-dnn406 and darknet",
          "libopencv-dnn406" in pkgs and "darknet" in pkgs, f"{rt}: {pkgs}")
    allruns = "\n".join(runs(s) for s in st)
    check("inference-cpu builds no CUDA", not re.search(r"cuda", allruns, re.I))
    check("inference-cpu build enables OpenCV and darknet",
          "-Dopencv=enabled" in allruns and "-Ddarknet=enabled" in allruns)

# ---- GPU image (issue 16.6) ------------------------------------------------------
text = read("Containerfile.gpu")
if text:
    ins = instructions(text)
    st = stages(ins)
    defaults = args_defaults(ins)
    build = next((s for s in st if re.search(r"\s[Aa][Ss]\s+build$", s[0])), None)
    runtime = st[-1]
    check("gpu: has a build stage and a runtime stage", build is not None and runtime is not build)
    b_runs = runs(build) if build else ""
    r_runs = runs(runtime)
    check("gpu: build stage installs curand headers (libcurand-dev-<cuda>)",
          re.search(r"\blibcurand-dev-\$\{CUDA_MAJOR\}-\$\{CUDA_MINOR\}", b_runs), "")
    check("gpu: runtime stage installs curand (libcurand-<cuda>)",
          re.search(r"\blibcurand-\$\{CUDA_MAJOR\}-\$\{CUDA_MINOR\}", r_runs), "")

    make = next((c for c in re.split(r"&&", b_runs) if re.search(r"\bmake\b.*GPU=1", c)), "")
    check("gpu: darknet is built with GPU=1 CUDNN=1 LIBSO=1",
          make and "CUDNN=1" in make and "LIBSO=1" in make, make.strip())
    stub = "/usr/local/cuda/lib64/stubs"
    check("gpu: darknet's -lcuda links CUDA's stub (stubs dir on the link path of make)",
          re.search(r"LIBRARY_PATH=\S*" + re.escape(stub), make)
          or re.search(r"-L\s*" + re.escape(stub), make), make.strip())
    meson = next((c for c in re.split(r"&&", b_runs) if "meson setup" in c), "")
    check("gpu: meson links against libdarknet with libcuda.so.1 resolvable (rpath-link to the stub)",
          re.search(r"rpath-link,?" + re.escape(stub), b_runs) and meson, meson.strip())
    check("gpu: the stub libcuda never reaches the runtime stage",
          stub not in r_runs and not any(k == "COPY" and "stubs" in a for k, a in runtime[1]))

    commit = defaults.get("DARKNET_COMMIT", "")
    check("gpu: the darknet fork is pinned by a full commit hash (ARG DARKNET_COMMIT)",
          re.fullmatch(r"[0-9a-f]{40}", commit), f"DARKNET_COMMIT={commit!r}")
    check("gpu: no `git clone --branch` (it takes branch/tag names, not a commit)",
          not re.search(r"git\s+clone[^\n&]*--branch", b_runs))
    check("gpu: the commit is fetched by hash and checked out",
          re.search(r"git\b[^\n&]*\bfetch\b[^\n&]*\$\{DARKNET_COMMIT\}", b_runs)
          and re.search(r"checkout[^\n&]*(FETCH_HEAD|\$\{DARKNET_COMMIT\})", b_runs))

    archs_src = defaults.get("CUDA_ARCHS", "")
    check("gpu: make gets ARCH from CUDA_ARCHS (overrides the fork's sm_35..sm_61 list)",
          re.search(r'ARCH="?\$\{CUDA_ARCHS\}', make), make.strip())
    sms = {int(m) for m in re.findall(r"sm_(\d+)", archs_src)}
    want = {75, 80, 86, 89, 90}
    check("gpu: kernels for sm_75 (T4), sm_80 (A100), sm_86 (A10/RTX 30), sm_89 (L4/L40), sm_90 (H100)",
          want <= sms, f"CUDA_ARCHS has {sorted(sms)}")
    cuda = (int(defaults.get("CUDA_MAJOR", "0")), int(defaults.get("CUDA_MINOR", "0")))
    # what nvcc compiles: CUDA 11.8 adds sm_89/sm_90; CUDA 12 drops sm_35/37 (and
    # 12.x still builds sm_50); nothing above sm_90 before 12.8.
    supported = set(range(35, 91)) if cuda < (12, 0) else set(range(50, 91))
    if cuda >= (12, 8):
        supported |= {100, 101, 120}
    check(f"gpu: every sm is one CUDA {cuda[0]}.{cuda[1]} compiles",
          sms and sms <= supported and cuda >= (11, 8), f"{sorted(sms - supported)} unsupported")
    check("gpu: PTX (compute_XX in code=) for GPUs newer than the list",
          re.search(r"code=\[?[^\s\]]*compute_9\d", archs_src), archs_src)

print("TAP version 13")
for i, (ok, desc, detail) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {desc}")
    if not ok and detail:
        print(f"# {detail}")
print(f"1..{len(results)}")
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
