from ads_bench.cli import main

# guarded: training stages run in spawned processes, which import the main module again
if __name__ == "__main__":
    main()
