/** A clock tests move by hand: pass `clock.now` wherever code takes `now: () => number`. */
export class FakeClock {
  constructor(private t: number = Date.now()) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
