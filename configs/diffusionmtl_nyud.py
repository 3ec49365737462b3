# Short alias of the paper's NYUD-v2 setting:
#   python tools/train.py configs/diffusionmtl_nyud.py
_base_ = ['./diffusionmtl/diffusionmtl_r18_1xb4-40k_nyud-288x384.py']
