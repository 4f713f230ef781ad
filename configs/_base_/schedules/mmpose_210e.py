"""MMPose's SimpleBaseline schedule: Adam 5e-4, 500-iteration linear warm-up from 0.001x,
lr x0.1 at epochs 170 and 200, 210 epochs, 64 images per device on 8 devices (512 in all)."""
optim_wrapper = dict(optimizer=dict(type='Adam', lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', milestones=[170, 200], gamma=0.1, by_epoch=True),
]
train_cfg = dict(max_epochs=210, val_interval=10)
auto_scale_lr = dict(enable=False, base_batch_size=512)
