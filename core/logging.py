"""The run's logger: console on every rank (warnings only off rank 0), a text file on rank 0."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Optional


def get_logger(work_dir: Optional[str], rank: int = 0, name: str = 'sbcore',
               log_file: str = 'run.log') -> logging.Logger:
    logger = logging.getLogger(f'{name}.{id(work_dir)}.{rank}')
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO if rank == 0 else logging.WARNING)
    fmt = logging.Formatter('%(asctime)s %(levelname)s %(message)s', '%Y-%m-%d %H:%M:%S')
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(fmt)
    logger.addHandler(console)
    if rank == 0 and work_dir:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(Path(work_dir) / log_file)
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    return logger
