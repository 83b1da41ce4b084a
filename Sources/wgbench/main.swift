import WGBenchCLI

// The entry point; the commands, and what their errors exit with, are WGBenchCLI's.
WGBench.runAsMain()
