// Preloaded into a server by the doors benchmark (`node --expose-gc --import …`), so that
// memory is read after a full collection without changing the server: on SIGUSR2 it
// collects and prints the process's memory figures on stderr.
process.on("SIGUSR2", () => {
  globalThis.gc?.();
  globalThis.gc?.();
  process.stderr.write(`DOORBENCH-GC ${JSON.stringify(process.memoryUsage())}\n`);
});
