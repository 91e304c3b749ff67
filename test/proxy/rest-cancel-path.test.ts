import { describe, expect, it } from 'vitest';
import { restCancelPath } from '../../proxy/task-calls.js';
import { methodFromRest } from '../../proxy/a2a/methods.js';

describe('restCancelPath: the kill switch cancels a REST call on the same binding', () => {
  it('keeps what precedes the call (mount point, tenant, /v1) and names the task', () => {
    expect(restCancelPath('/message:stream', 't-1')).toBe('/tasks/t-1:cancel');
    expect(restCancelPath('/message:send', 't-1')).toBe('/tasks/t-1:cancel');
    expect(restCancelPath('/v1/message:stream', 't-1')).toBe('/v1/tasks/t-1:cancel');
    expect(restCancelPath('/acme/message:stream/', 't-1')).toBe('/acme/tasks/t-1:cancel');
    expect(restCancelPath('/tasks/t-1:subscribe', 't-1')).toBe('/tasks/t-1:cancel');
    expect(restCancelPath('/Message:Stream', 'a b/c')).toBe('/tasks/a%20b%2Fc:cancel');
  });

  it('is a path the A2A router reads as CancelTask', () => {
    for (const rest of ['/message:stream', '/v1/message:send', '/acme/tasks/x:subscribe'])
      expect(methodFromRest('POST', restCancelPath(rest, 'id-9')!)).toBe('CancelTask');
  });

  it('names nothing for a call the kill switch cannot have in flight as a task call', () => {
    expect(restCancelPath('/tasks/t-1', 't-1')).toBeUndefined();
    expect(restCancelPath('', 't-1')).toBeUndefined();
    expect(restCancelPath('/message:sendx', 't-1')).toBeUndefined();
  });
});
