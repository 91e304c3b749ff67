/**
 * `node --import ./record-date-formatting.mjs <entry>`: notes where a Date was first formatted or read in
 * local time (globalThis.__dateFormatting, a stack trace, or undefined). The first such call of a process
 * sets up V8's date cache, which pages in ~640 KB of the ICU time zone data compiled into node; an idle
 * gateway should not have paid that (docs/performance.md Session 7). Wraps the Date methods that do it.
 */
const METHODS = [
  'toISOString',
  'toJSON',
  'toUTCString',
  'toString',
  'toDateString',
  'toTimeString',
  'toLocaleString',
  'toLocaleDateString',
  'toLocaleTimeString',
];
const LOCAL = ['getFullYear', 'getMonth', 'getDate', 'getDay', 'getHours', 'getMinutes', 'getSeconds', 'getTimezoneOffset'];
for (const name of [...METHODS, ...LOCAL]) {
  const original = Date.prototype[name];
  Object.defineProperty(Date.prototype, name, {
    configurable: true,
    writable: true,
    value: function (...args) {
      globalThis.__dateFormatting ??= `Date.prototype.${name}: ${new Error().stack}`;
      return original.apply(this, args);
    },
  });
}
