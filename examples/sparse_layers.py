# SPDX-License-Identifier: MIT
"""ARD layers in PyTorch, in skorch and in the depth-search estimators
=====================================================================

Sparse variational dropout (ARD) learns which weights a network needs. This
example trains, on scikit-learn's bundled diabetes data (442 rows, 10
features, targets standardised):

1. a ``nn.Module`` with :class:`~sklearn_depth.nn.LinearARD` layers in a
   hand-written PyTorch loop;
2. the same module in a skorch ``NeuralNet``;
3. ``DepthSearchRegressor(sparse_blocks="ard")``, which learns the depth and the
   block widths at once, and exports the pruned network with ``torch.export``.

Run it with ``python examples/sparse_layers.py``; the figure at the end needs
matplotlib (``pip install "sklearn-depth[plot]"``) and is skipped without it.
"""

# %%
# Data and a sparse model
# -----------------------
# The model has two ARD layers and learns the scale of its Gaussian noise:
# against a fixed scale, as ``mse_loss`` implies, the KL can prune every
# weight.
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_diabetes
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNet
from skorch.utils import to_tensor
from torch import nn

from sklearn_depth import DepthSearchRegressor
from sklearn_depth.nn import ELBOLoss, LinearARD, count_parameters, sparsity

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train = scaler.transform(X_train).astype(np.float32)
X_test = scaler.transform(X_test).astype(np.float32)
y_mean, y_std = y_train.mean(), y_train.std()
z_train = ((y_train - y_mean) / y_std).astype(np.float32)


class SparseMLP(nn.Module):
    """10 → 64 → 1 with ARD weights and a learned noise scale."""

    def __init__(self, n_features=10, hidden=64):
        super().__init__()
        self.hidden = LinearARD(n_features, hidden)
        self.out = LinearARD(hidden, 1)
        self.log_noise = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))[:, 0]

    def nll(self, y_pred, y_true):
        # Gaussian negative log-likelihood per row (up to a constant).
        z = (y_true - y_pred) * torch.exp(-self.log_noise)
        return (0.5 * z.square() + self.log_noise).mean()


def report(name, model, predict):
    n_total, n_kept = count_parameters(model)
    r2 = r2_score(y_test, predict(X_test))
    print(
        f"{name:28s} test R2 {r2:.3f}, weights kept {n_kept} / {n_total} "
        f"(sparsity {sparsity(model):.0%})"
    )


# %%
# 1. A plain PyTorch loop
# -----------------------
# :class:`~sklearn_depth.nn.ELBOLoss` adds the ARD layers' KL divided by
# ``n_train`` to the mean negative log-likelihood of the batch; its
# ``kl_weight`` grows from 0 to 1 over the first 100 epochs.
torch.manual_seed(0)
model = SparseMLP()
criterion = ELBOLoss(n_train=len(X_train), nll=model.nll)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
Xt, zt = torch.from_numpy(X_train), torch.from_numpy(z_train)
for epoch in range(400):
    model.train()
    criterion.kl_weight = min(1.0, epoch / 100)  # anneal the KL
    for rows in torch.randperm(len(Xt)).split(64):
        loss = criterion(model(Xt[rows]), zt[rows], model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
model.eval()  # deterministic, pruned weights exactly zero


def predict_torch(X):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy() * y_std + y_mean


report("plain PyTorch loop", model, predict_torch)


# %%
# 2. A skorch net
# ---------------
# ``ELBOLoss`` reads the KL off the module, so ``get_loss`` passes it along.
class ELBONet(NeuralNet):
    def get_loss(self, y_pred, y_true, X=None, training=False):
        return self.criterion_(y_pred, to_tensor(y_true, self.device), self.module_)


torch.manual_seed(0)
sparse_module = SparseMLP()
net = ELBONet(
    sparse_module,
    criterion=ELBOLoss,
    criterion__n_train=len(X_train),
    criterion__nll=sparse_module.nll,
    optimizer=torch.optim.Adam,
    lr=3e-3,
    max_epochs=400,
    batch_size=64,
    train_split=None,
    verbose=0,
).fit(X_train, z_train)
report("skorch NeuralNet", net.module_, lambda X: net.predict(X) * y_std + y_mean)

# %%
# 3. Depth and width learned together
# -----------------------------------
# With ``sparse_blocks="ard"`` every residual block is an ARD bottleneck: the
# posterior over depth removes whole blocks and ARD removes hidden units
# inside the kept ones. ``export_pruned`` returns the small, plain network
# that is left and saves it with ``torch.export``; loading it needs neither
# sklearn-depth nor skorch.
reg = DepthSearchRegressor(
    max_depth=6, width=16, sparse_blocks="ard", max_epochs=400, random_state=0
).fit(X_train, y_train)
print(
    f"{'DepthSearchRegressor (ARD)':28s} test R2 {reg.score(X_test, y_test):.3f}, "
    f"depth {reg.depth_} of 6, parameters {reg.n_params_pruned_} of {reg.n_params_} "
    f"(removed: {reg.n_params_removed_depth_} with blocks, "
    f"{reg.n_params_removed_ard_} with hidden units)"
)
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "diabetes.pt2"
    reg.export_pruned(path)  # torch.export: loads without sklearn-depth
    exported = torch.export.load(path).module()
    mean, std = exported(torch.from_numpy(X_test))
    assert np.allclose(mean.detach().numpy(), reg.predict(X_test), atol=1e-3)
    print(f"exported to {path.name}: predictions match, mean std {std.mean():.1f}")

# %%
# The posterior over depth of the sparse regressor, against its uniform prior,
# with the selected depth marked.
try:
    import matplotlib.pyplot as plt
except ImportError:  # the plot extra is not installed
    print("matplotlib is not installed: no figure.")
    sys.exit()

from sklearn_depth.plotting import DepthPosteriorDisplay

DepthPosteriorDisplay.from_estimator(reg, name="DepthSearchRegressor (ARD)")
plt.show()
