// Adapters: waiting between retries. Injected wherever a test must not wait for real.
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));
