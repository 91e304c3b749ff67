import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's headless Chromium for the page tests, started the way this machine allows: no sandbox (root),
 * and no background networking (the closed network refuses those connections, many at a time).
 */
export const CHROMIUM = process.env.TOLLGATE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails with the install command when Chromium is missing (a test that needs it must not pass without it). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`headless browser not found at ${CHROMIUM}: install Debian's chromium package (apt-get update && apt-get install -y chromium)`);
  }
}

/** A fresh browser on its own profile directory (the caller makes and removes it). */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 900 } });
}
