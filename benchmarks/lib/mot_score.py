#!/usr/bin/env python3
"""Score tracker output against edgefaas-makeclip scenario truth (MOTChallenge measures).

    mot_score.py TRUTH.json TRACKS.jsonl [--iou 0.5] [--min-visibility 0.5] [--all-states]

TRUTH.json: `edgefaas-makeclip --scenario ... --truth` (frames_truth: per frame the objects
with id, box [x, y, w, h], visibility). TRACKS.jsonl: one line per frame as written by
tracker-bench --mode track ({"frame", "objects": [{"id", "box", "label", "state"}]}).
Prints one JSON object.

Definitions (CLEAR MOT, Bernardin & Stiefelhagen 2008; IDF1, Ristani et al. 2016; as in
the MOTChallenge devkit / py-motmetrics):
- Per frame, truth and hypotheses match when IoU >= --iou. A truth object keeps last
  frame's hypothesis if they still match; the rest are assigned by maximum total IoU
  (Hungarian).
- ID switch (IDSW): a truth object matched to a hypothesis id different from the one it
  was last matched to (any earlier frame).
- Fragmentation (Frag): a truth trajectory's matched status going from matched to
  unmatched and later matched again (each interruption counts once).
- IDF1 = 2 IDTP / (truth boxes + hypothesis boxes), IDTP from the best one-to-one
  assignment of truth ids to hypothesis ids over the whole clip (Hungarian on the
  number of frames in which each pair matches).
- MOTA = 1 - (FN + FP + IDSW) / truth boxes.
Truth boxes with visibility < --min-visibility are "don't care" (MOT17 style): they take
part in the matching, but a hypothesis matched to one is neither TP nor FP and an
unmatched one is no miss; they do not enter IDSW, Frag or IDF1.
Only hypotheses in state `confirmed` count, unless --all-states; only labels among the
truth objects' labels count.
"""
import argparse
import json
import sys


def iou(a, b):
    ax1, ay1, ax2, ay2 = a[0], a[1], a[0] + a[2], a[1] + a[3]
    bx1, by1, bx2, by2 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    iw = min(ax2, bx2) - max(ax1, bx1)
    ih = min(ay2, by2) - max(ay1, by1)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def hungarian(cost):
    """Minimum-cost assignment for a rectangular matrix (list of rows); returns a list
    of (row, col). O(n^3) (Kuhn-Munkres with potentials)."""
    n_rows = len(cost)
    n_cols = len(cost[0]) if n_rows else 0
    if n_rows == 0 or n_cols == 0:
        return []
    transposed = n_rows > n_cols
    if transposed:
        cost = [list(r) for r in zip(*cost)]
        n_rows, n_cols = n_cols, n_rows
    inf = float("inf")
    u = [0.0] * (n_rows + 1)
    v = [0.0] * (n_cols + 1)
    p = [0] * (n_cols + 1)
    way = [0] * (n_cols + 1)
    for i in range(1, n_rows + 1):
        p[0] = i
        j0 = 0
        minv = [inf] * (n_cols + 1)
        used = [False] * (n_cols + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            for j in range(1, n_cols + 1):
                if not used[j]:
                    cur = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(n_cols + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    pairs = [(p[j] - 1, j - 1) for j in range(1, n_cols + 1) if p[j] != 0]
    return [(c, r) for r, c in pairs] if transposed else pairs


def score(truth, tracks, min_iou=0.5, min_vis=0.5, all_states=False):
    labels = set()
    for o in truth["objects"]:
        labels.update(o["labels"])
    hyp_by_frame = {}
    for line in tracks:
        fr = json.loads(line)
        hyp_by_frame[fr["frame"]] = [
            h for h in fr["objects"]
            if h["label"] in labels and (all_states or h["state"] == "confirmed")]

    last_match = {}          # truth id -> hyp id it was last matched to
    prev_pairs = {}          # truth id -> hyp id matched in the previous frame
    status = {}              # truth id -> list of matched booleans (frames it exists)
    pair_frames = {}         # (truth id, hyp id) -> frames matched (for IDF1)
    n_truth = n_hyp = tp = fp = fn = idsw = 0
    truth_ids, hyp_ids = set(), set()
    truth_count, hyp_count = {}, {}

    for fr in truth["frames_truth"]:
        gts = fr["objects"]
        hyps = list(hyp_by_frame.get(fr["frame"], []))
        care = gts
        matches = {}
        used_h = set()
        # keep last frame's correspondences that still hold
        for gi, g in enumerate(care):
            hid = prev_pairs.get(g["id"])
            if hid is None:
                continue
            for hi, h in enumerate(hyps):
                if h["id"] == hid and hi not in used_h and iou(g["box"], h["box"]) >= min_iou:
                    matches[gi] = hi
                    used_h.add(hi)
                    break
        free_g = [gi for gi in range(len(care)) if gi not in matches]
        free_h = [hi for hi in range(len(hyps)) if hi not in used_h]
        if free_g and free_h:
            big = 1e6
            cost = [[(1 - iou(care[gi]["box"], hyps[hi]["box"]))
                     if iou(care[gi]["box"], hyps[hi]["box"]) >= min_iou else big
                     for hi in free_h] for gi in free_g]
            for r, c in hungarian(cost):
                if cost[r][c] < big:
                    matches[free_g[r]] = free_h[c]
        prev_pairs = {}
        n_dont_matched = 0
        for gi, g in enumerate(care):
            gid = g["id"]
            if g["visibility"] < min_vis:
                # don't care: a hypothesis on it is neither TP nor FP, no miss if none
                if gi in matches:
                    n_dont_matched += 1
                    prev_pairs[gid] = hyps[matches[gi]]["id"]
                continue
            truth_ids.add(gid)
            truth_count[gid] = truth_count.get(gid, 0) + 1
            st = status.setdefault(gid, [])
            n_truth += 1
            if gi in matches:
                hid = hyps[matches[gi]]["id"]
                if gid in last_match and last_match[gid] != hid:
                    idsw += 1
                last_match[gid] = hid
                prev_pairs[gid] = hid
                pair_frames[(gid, hid)] = pair_frames.get((gid, hid), 0) + 1
                tp += 1
                st.append(True)
            else:
                fn += 1
                st.append(False)
        dont_hyps = {matches[gi] for gi, g in enumerate(care)
                     if g["visibility"] < min_vis and gi in matches}
        for hi, h in enumerate(hyps):
            if hi in dont_hyps:
                continue
            hyp_ids.add(h["id"])
            hyp_count[h["id"]] = hyp_count.get(h["id"], 0) + 1
            n_hyp += 1
        fp += len(hyps) - len(matches)

    frag = 0
    for st in status.values():
        seen = False
        for k in range(1, len(st)):
            if st[k - 1] and not st[k]:
                seen = True
            if seen and st[k] and not st[k - 1]:
                frag += 1
    # IDF1: maximise the matched frames over one-to-one truth id <-> hyp id pairs
    t_list, h_list = sorted(truth_ids), sorted(hyp_ids)
    idtp = 0
    if t_list and h_list:
        cost = [[-pair_frames.get((g, h), 0) for h in h_list] for g in t_list]
        idtp = -sum(cost[r][c] for r, c in hungarian(cost))
    idf1 = 2 * idtp / (n_truth + n_hyp) if n_truth + n_hyp else 1.0
    return {
        "scenario": truth.get("scenario"),
        "truth_boxes": n_truth, "hyp_boxes": n_hyp,
        "truth_ids": len(t_list), "hyp_ids": len(h_list),
        "tp": tp, "fp": fp, "fn": fn,
        "idsw": idsw, "frag": frag,
        "idtp": idtp, "idf1": round(idf1, 4),
        "mota": round(1 - (fn + fp + idsw) / n_truth, 4) if n_truth else None,
        "recall": round(tp / n_truth, 4) if n_truth else None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("truth")
    ap.add_argument("tracks")
    ap.add_argument("--iou", type=float, default=0.5)
    ap.add_argument("--min-visibility", type=float, default=0.5)
    ap.add_argument("--all-states", action="store_true")
    a = ap.parse_args()
    with open(a.truth) as f:
        truth = json.load(f)
    with open(a.tracks) as f:
        tracks = [l for l in f if l.strip()]
    if not truth.get("frames_truth"):
        sys.exit("mot_score.py: %s has no frames_truth (not a scenario truth file)" % a.truth)
    print(json.dumps(score(truth, tracks, a.iou, a.min_visibility, a.all_states)))


if __name__ == "__main__":
    main()
