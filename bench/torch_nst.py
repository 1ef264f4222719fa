#!/usr/bin/python3
"""Independent PyTorch implementation of nst's objective and optimiser.

Used by hand (never by `make check`) to cross-check nst's loss log and to
measure PyTorch's speed on the same problem; see docs/validation.md.

The objective, written from the specification in docs/validation.md:
  x       RGB image in [0,255] minus the VGG mean, CHW
  net     conv1_1 conv1_2 avgpool conv2_1 conv2_2 avgpool conv3_1 conv3_2
          conv3_3 (3x3, stride 1, zero padding 1, bias, ReLU; 2x2/2 pools)
  F_l     ReLU output of layer l as a C_l x M_l matrix
  Lc      mean((F(x) - F(content))^2) at relu3_3
  G_l     F_l F_l^T / M_l
  Ls      (1/7) sum over the seven ReLUs of mean((G_l(x) - G_l(style))^2)
  Ltv     (10/(3HW)) sum of squared vertical and horizontal neighbour
          differences inside the image
  L       alpha Lc + beta Ls + gamma Ltv
Adam (torch.optim.Adam) on x, clamped after each step so that x + mean
stays in [0,255]; x starts at the content image.

Images are read with PIL and used at their own size: nothing is resized
here, so give images already at the wanted size.

Log (--log): CSV iter,total,content,style,tv,seconds with rows 0..N; row k
is the loss before update k+1 (row 0: the starting image; the last row
needs a forward pass only); seconds is the wall time since the start of
row 0's computation, taken when the row's loss is known, so consecutive
differences are per-iteration times.
"""

import argparse
import glob
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

MEAN = (123.68, 116.779, 103.939)
# (layer name, pool before it); the seven ReLU outputs all enter the style
# loss, the last one (relu3_3) is also the content layer.
LAYERS = (
    ("conv1_1", False), ("conv1_2", False),
    ("conv2_1", True), ("conv2_2", False),
    ("conv3_1", True), ("conv3_2", False), ("conv3_3", False),
)


def default_weights():
    """nst's search order: $NST_WEIGHTS, vgg/*.npz, ../shared/vgg/*.npz."""
    if os.environ.get("NST_WEIGHTS"):
        return os.environ["NST_WEIGHTS"]
    for pattern in ("vgg/*.npz", "../shared/vgg/*.npz"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def load_weights(path, dtype):
    """Conv weights from an npz in vgg16_weights.npz layout (HWIO -> OIHW)."""
    npz = np.load(path)
    params = []
    for name, _ in LAYERS:
        w = npz[name + "_W"]
        b = npz[name + "_b"]
        if w.shape[:2] != (3, 3) or b.shape != (w.shape[3],):
            sys.exit(f"{path}: {name} has unexpected shape {w.shape}")
        w = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
        b = torch.from_numpy(np.ascontiguousarray(b))
        params.append((w.to(dtype), b.to(dtype)))
    return params


def load_image(path, dtype):
    """RGB image as a 1x3xHxW tensor of pixel levels minus the mean."""
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    x = torch.from_numpy(pixels.transpose(2, 0, 1).copy()).to(dtype)
    return (x - mean_tensor(dtype)).unsqueeze(0)


def save_image(x, path):
    pixels = (x[0] + mean_tensor(x.dtype)).clamp(0, 255).round()
    arr = pixels.to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
    Image.fromarray(arr).save(path)


def mean_tensor(dtype):
    return torch.tensor(MEAN, dtype=dtype).view(3, 1, 1)


def features(x, params):
    """The seven ReLU outputs, each as a C x M matrix."""
    out = []
    h = x
    for (w, b), (_, pool_before) in zip(params, LAYERS):
        if pool_before:
            h = F.avg_pool2d(h, kernel_size=2, stride=2)  # floor mode
        h = F.relu(F.conv2d(h, w, b, stride=1, padding=1))
        out.append(h[0].reshape(h.shape[1], -1))
    return out


def gram(f):
    return f @ f.t() / f.shape[1]


def tv_loss(x):
    dy = x[:, :, 1:, :] - x[:, :, :-1, :]
    dx = x[:, :, :, 1:] - x[:, :, :, :-1]
    h, w = x.shape[2], x.shape[3]
    return 10 * ((dy * dy).sum() + (dx * dx).sum()) / (3 * h * w)


class Objective:
    def __init__(self, params, content, style, alpha, beta, gamma):
        self.params = params
        self.alpha, self.beta, self.gamma = alpha, beta, gamma
        with torch.no_grad():
            self.content_target = features(content, params)[-1]
            self.style_targets = [gram(f) for f in features(style, params)]

    def __call__(self, x):
        """(total, content, style, tv) as 0-d tensors."""
        feats = features(x, self.params)
        lc = ((feats[-1] - self.content_target) ** 2).mean()
        ls = sum(((gram(f) - t) ** 2).mean()
                 for f, t in zip(feats, self.style_targets)) / len(feats)
        ltv = tv_loss(x)
        total = self.alpha * lc + self.beta * ls + self.gamma * ltv
        return total, lc, ls, ltv


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Gatys style transfer in PyTorch, nst's objective "
                    "(images are used at their own size, not resized)")
    p.add_argument("--content", required=True)
    p.add_argument("--style", required=True)
    p.add_argument("--out")
    p.add_argument("--weights", help="VGG .npz (default: as nst finds it)")
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--lr", type=float, default=4.0)
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--style-weight", type=float, default=0.01)
    p.add_argument("--tv-weight", type=float, default=1.0)
    p.add_argument("--log", help="CSV loss log, rows 0..iters")
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads (default: leave torch's)")
    p.add_argument("--double", action="store_true",
                   help="compute in float64 instead of float32")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dtype = torch.float64 if args.double else torch.float32

    weights = args.weights or default_weights()
    if weights is None:
        sys.exit("no weights: give --weights FILE or set NST_WEIGHTS")
    params = load_weights(weights, dtype)
    content = load_image(args.content, dtype)
    style = load_image(args.style, dtype)
    objective = Objective(params, content, style, args.content_weight,
                          args.style_weight, args.tv_weight)

    x = content.clone().requires_grad_(True)
    lo = (0 - mean_tensor(dtype)).expand_as(x[0])
    hi = (255 - mean_tensor(dtype)).expand_as(x[0])
    adam = torch.optim.Adam([x], lr=args.lr, betas=(0.9, 0.999), eps=1e-8)

    rows = []
    t0 = time.perf_counter()
    for k in range(args.iters + 1):
        last = k == args.iters
        adam.zero_grad(set_to_none=True)
        if last:
            with torch.no_grad():
                losses = objective(x)
        else:
            losses = objective(x)
            losses[0].backward()
        elapsed = time.perf_counter() - t0
        rows.append((k,) + tuple(v.item() for v in losses) + (elapsed,))
        if not args.quiet:
            print("iter %d total %.6g content %.6g style %.6g tv %.6g "
                  "t %.3fs" % rows[-1], file=sys.stderr)
        if not last:
            adam.step()
            with torch.no_grad():
                x[0].copy_(torch.maximum(torch.minimum(x[0], hi), lo))

    if args.log:
        with open(args.log, "w") as f:
            f.write("iter,total,content,style,tv,seconds\n")
            for r in rows:
                f.write("%d,%.17g,%.17g,%.17g,%.17g,%.6f\n" % r)
    if args.out:
        save_image(x.detach(), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
