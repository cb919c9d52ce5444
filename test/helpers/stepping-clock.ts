// Test helpers: a clock for the local credential authority and its STS endpoint that tests can
// move forward, so expiry and revocation lag happen without waiting.

/** Real time plus an offset the test moves: the SDK signs with the real clock. */
export class SteppingClock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
