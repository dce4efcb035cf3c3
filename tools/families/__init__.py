"""PyTorch reference layers of the convolution families convd serves, each
module with its converter lowering (registered through convd_fx_custom) and
its GOLDEN cases for tools/make_family_golden.py."""
