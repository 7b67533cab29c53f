from benchmarks.server.run import main

raise SystemExit(main())
