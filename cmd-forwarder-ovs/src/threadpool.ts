// Imported first by main.ts: the netlink addon runs every kernel exchange on libuv's threadpool, and
// some exchanges wait for the kernel (deleting a link waits for an RCU grace period, ~20 ms). With
// the default four threads, four such waits would hold up every other kernel operation, file access
// and DNS lookup of the process; the pool is sized before anything uses it (it is made on first use).
process.env.UV_THREADPOOL_SIZE ??= '16';
