from ads_bench.cli import main

main()
