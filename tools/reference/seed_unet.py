"""The seed U-Net of SPEC section 2, with the module structure that gives the SPEC's state-dict names.

Registration order (which fixes state-dict order): ResidualConvBlock registers conv1, conv2, then
shortcut (only a 1x1 conv when is_res and in != out; the identity otherwise, with no parameters);
ContextUnet registers modules in the SPEC table's order.
"""
import torch
from torch import nn

EXPECTED_PARAMETERS = {64: 1_481_027, 128: 5_902_979}
EXPECTED_STATE_ENTRIES = 158


class ResidualConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, is_res=False):
        super().__init__()
        self.is_res = is_res
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU()
        )
        self.conv2 = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, 3, 1, 1), nn.BatchNorm2d(out_channels), nn.GELU()
        )
        if is_res and in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, 1)
        else:
            self.shortcut = None

    def forward(self, x):
        y = self.conv2(self.conv1(x))
        if not self.is_res:
            return y
        skip = x if self.shortcut is None else self.shortcut(x)
        return (skip + y) / 1.414


class UnetDown(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.model = nn.Sequential(
            ResidualConvBlock(in_channels, out_channels),
            ResidualConvBlock(out_channels, out_channels),
            nn.MaxPool2d(2),
        )

    def forward(self, x):
        return self.model(x)


class UnetUp(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.model = nn.Sequential(
            nn.ConvTranspose2d(in_channels, out_channels, 2, 2),
            ResidualConvBlock(out_channels, out_channels),
            ResidualConvBlock(out_channels, out_channels),
        )

    def forward(self, x, skip):
        return self.model(torch.cat((x, skip), 1))


class EmbedFC(nn.Module):
    def __init__(self, input_dim, emb_dim):
        super().__init__()
        self.input_dim = input_dim
        self.model = nn.Sequential(nn.Linear(input_dim, emb_dim), nn.GELU(), nn.Linear(emb_dim, emb_dim))

    def forward(self, x):
        return self.model(x.view(-1, self.input_dim))


class ContextUnet(nn.Module):
    def __init__(self, in_channels=3, n_feat=64, n_cfeat=5, height=16):
        super().__init__()
        self.in_channels = in_channels
        self.n_feat = n_feat
        self.n_cfeat = n_cfeat
        self.height = height
        nf = n_feat
        self.init_conv = ResidualConvBlock(in_channels, nf, is_res=True)
        self.down1 = UnetDown(nf, nf)
        self.down2 = UnetDown(nf, 2 * nf)
        self.to_vec = nn.Sequential(nn.AvgPool2d(height // 4), nn.GELU())
        self.timeembed1 = EmbedFC(1, 2 * nf)
        self.timeembed2 = EmbedFC(1, nf)
        self.contextembed1 = EmbedFC(n_cfeat, 2 * nf)
        self.contextembed2 = EmbedFC(n_cfeat, nf)
        self.up0 = nn.Sequential(
            nn.ConvTranspose2d(2 * nf, 2 * nf, height // 4, height // 4), nn.GroupNorm(8, 2 * nf), nn.ReLU()
        )
        self.up1 = UnetUp(4 * nf, nf)
        self.up2 = UnetUp(2 * nf, nf)
        self.out = nn.Sequential(
            nn.Conv2d(2 * nf, nf, 3, 1, 1), nn.GroupNorm(8, nf), nn.ReLU(), nn.Conv2d(nf, in_channels, 3, 1, 1)
        )

    def forward(self, x, t, c=None):
        nf = self.n_feat
        if c is None:
            c = torch.zeros(x.shape[0], self.n_cfeat, dtype=x.dtype, device=x.device)
        x = self.init_conv(x)
        d1 = self.down1(x)
        d2 = self.down2(d1)
        h = self.to_vec(d2)
        cemb1 = self.contextembed1(c).view(-1, 2 * nf, 1, 1)
        temb1 = self.timeembed1(t).view(-1, 2 * nf, 1, 1)
        cemb2 = self.contextembed2(c).view(-1, nf, 1, 1)
        temb2 = self.timeembed2(t).view(-1, nf, 1, 1)
        u1 = self.up0(h)
        u2 = self.up1(cemb1 * u1 + temb1, d2)
        u3 = self.up2(cemb2 * u2 + temb2, d1)
        return self.out(torch.cat((u3, x), 1))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def check_structure(model):
    """Asserts the SPEC's entry count, parameter count and a sample of its names."""
    state = model.state_dict()
    assert len(state) == EXPECTED_STATE_ENTRIES, len(state)
    expected = EXPECTED_PARAMETERS.get(model.n_feat)
    if expected is not None:
        assert parameter_count(model) == expected, (model.n_feat, parameter_count(model))
    for name in [
        "init_conv.conv1.0.weight", "init_conv.conv1.1.running_mean", "init_conv.shortcut.weight",
        "down1.model.0.conv2.1.bias", "down2.model.1.conv1.0.weight", "timeembed1.model.0.weight",
        "contextembed2.model.2.bias", "up0.0.weight", "up0.1.weight", "up1.model.0.weight",
        "up1.model.1.conv1.0.weight", "out.0.weight", "out.1.weight", "out.3.weight",
        "init_conv.conv1.1.num_batches_tracked",
    ]:
        assert name in state, name
    nf = model.n_feat
    assert tuple(state["up1.model.0.weight"].shape) == (4 * nf, nf, 2, 2)
    assert state["init_conv.conv1.1.num_batches_tracked"].dtype == torch.int64


if __name__ == "__main__":
    for nf in (64, 128):
        m = ContextUnet(n_feat=nf)
        check_structure(m)
        print(f"n_feat {nf}: {parameter_count(m)} parameters, {len(m.state_dict())} state-dict entries")
