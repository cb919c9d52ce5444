// Bench entry (`npm run bench`): quiets the engine's per-event INFO log lines before any
// engine module loads (the Powertools logger reads its level at import), then runs it all.
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { runBenchmark } = await import('./benchmark');
await runBenchmark(process.argv.slice(2));
