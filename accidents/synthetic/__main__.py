"""``.venv/bin/python -m accidents.synthetic OUT_DIR --years 2022 2023``: write synthetic BAAC files."""

from accidents.synthetic.generator import main

raise SystemExit(main())
