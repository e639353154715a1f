"""Affairs (政务服务): the government service catalog — items, departments, themes, halls."""
