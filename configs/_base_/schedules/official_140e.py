"""The official SimpleBaseline schedule: Adam 1e-3, 140 epochs, lr x0.1 at epochs 90 and 120,
32 images per device on 4 devices (128 in all)."""
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                    weight_decay=0.0))
param_scheduler = [dict(type='MultiStepLR', milestones=[90, 120], gamma=0.1, by_epoch=True)]
train_cfg = dict(max_epochs=140, val_interval=10)
# Linear lr scaling when the total batch differs from the official 4 x 32 (off by default).
auto_scale_lr = dict(enable=False, base_batch_size=128)
