package main

func runPlan(e *env, args []string) int { return exitUsage }
