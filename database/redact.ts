/**
 * A service URL with its password replaced, for logs and messages (PostgreSQL here, Redis in gateway/fleet.ts).
 * Kept apart from postgres.ts so showing a URL does not load the pg driver.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparseable URL)';
  }
}
