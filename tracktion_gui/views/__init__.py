"""The main views of the window (part 1: library, folders, jobs; part 2 adds waveform, mix, graph)."""
