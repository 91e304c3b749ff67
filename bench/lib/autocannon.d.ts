// Minimal types for the parts of autocannon the benchmarks use (the package ships none).
declare module 'autocannon' {
  namespace autocannon {
    interface Options {
      url: string;
      method?: string;
      body?: string | Buffer;
      headers?: Record<string, string>;
      connections?: number;
      duration?: number;
      amount?: number;
      tlsOptions?: Record<string, unknown>;
      servername?: string;
    }
    interface Result {
      '1xx': number;
      '2xx': number;
      '3xx': number;
      '4xx': number;
      '5xx': number;
      non2xx: number;
      errors: number;
      timeouts: number;
      requests: { average: number; total: number };
    }
  }
  function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
  export default autocannon;
}
