package main

import (
	"bufio"
	"os"
	"runtime/pprof"
	"strings"
)

// startProfiles turns on the measurement hooks named by the environment
// and returns what finishes them:
//
//	SLUICE_CPUPROFILE=path  a Go CPU profile of the command
//	SLUICE_MEMPROFILE=path  a Go allocation profile at exit
//	SLUICE_PEAKMEM=path     the process's peak resident memory (VmHWM, in
//	                        kB) at exit. A parent's rusage cannot tell it:
//	                        Linux carries the parent's high-water mark
//	                        into a child started with vfork and exec.
func startProfiles(getenv func(string) string) (stop func()) {
	var stops []func()
	if path := getenv("SLUICE_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := getenv("SLUICE_MEMPROFILE"); path != "" {
		stops = append(stops, func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		})
	}
	if path := getenv("SLUICE_PEAKMEM"); path != "" {
		stops = append(stops, func() { os.WriteFile(path, []byte(peakRSS()), 0o644) })
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

// peakRSS is the VmHWM figure of /proc/self/status in kB, or "" where
// there is no such file.
func peakRSS() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		}
	}
	return ""
}
