import ArgumentParser

WGBench.main()
