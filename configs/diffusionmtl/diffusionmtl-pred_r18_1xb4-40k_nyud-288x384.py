# Prediction-diffusion variant. Paper (Table 3, one-label, Prediction):
# mIoU 44.97, absErr 0.5137, mErr 26.17.
_base_ = ['./diffusionmtl_r18_1xb4-40k_nyud-288x384.py']
model = dict(decode_head=dict(variant='prediction'))
