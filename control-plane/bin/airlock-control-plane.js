#!/usr/bin/env node
// Thin shim: the compiled entry parses flags over the environment and starts the control plane.
import '../dist/cli-entry.js';
