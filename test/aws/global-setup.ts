// Test tier (AWS emulator): one moto_server for the whole `npm run test:aws` run.
import type { TestProject } from 'vitest/node';
import { startMoto } from './moto-server';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
  return () => moto.stop();
}
