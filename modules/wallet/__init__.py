"""移动钥匙包: the mobile key wallet (issue 11). ``interface.py`` is its published surface."""
