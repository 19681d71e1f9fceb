import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/api/errors.ts';
import { parseInput } from '../../../shared/api/validation.ts';
import {
  DEFAULT_TIMEOUTS,
  MAX_SCOPE_LABELS,
  MAX_TIMEOUT_ENTRIES,
  checkWorkloadSettingsUpdate,
  defaultWorkloadSettings,
  settingsUseLabel,
  updateWorkloadSettingsSchema,
  workloadSettingsToJson,
} from '../../../shared/settings/workload-settings.ts';

const check = (body: unknown, orgId = 1) => checkWorkloadSettingsUpdate(orgId, parseInput(updateWorkloadSettingsSchema, body));

function schemaErrors(body: unknown): { token: string; message: string }[] {
  try {
    parseInput(updateWorkloadSettingsSchema, body);
  } catch (err) {
    if (err instanceof ValidationError) return [...err.errors];
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('workload settings: defaults and JSON', () => {
  it('defaults to the seed: offline after 1 hour (3600 s), goodbye after 900 s, for every workload', () => {
    expect(workloadSettingsToJson(defaultWorkloadSettings(1))).toEqual({
      href: '/orgs/1/settings/workloads',
      workload_disconnected_timeout_seconds: [{ scope: [], value: 3600 }],
      workload_goodbye_timeout_seconds: [{ scope: [], value: 900 }],
    });
  });

  it('shows scopes as label hrefs and ven_type only when set', () => {
    const json = workloadSettingsToJson({
      orgId: 3,
      timeouts: { ...DEFAULT_TIMEOUTS, workload_goodbye_timeout_seconds: [{ scope: [], value: -1, venType: 'endpoint' }, { scope: [4, 9], value: 600, venType: null }] },
      updatedAt: 1,
      updatedBy: 1,
    });
    expect(json.workload_goodbye_timeout_seconds).toEqual([
      { scope: [], value: -1, ven_type: 'endpoint' },
      { scope: [{ href: '/orgs/3/labels/4' }, { href: '/orgs/3/labels/9' }], value: 600 },
    ]);
    expect(settingsUseLabel({ orgId: 3, timeouts: { ...DEFAULT_TIMEOUTS, workload_goodbye_timeout_seconds: [{ scope: [4], value: 1, venType: null }] }, updatedAt: 1, updatedBy: 1 }, 4)).toBe(true);
    expect(settingsUseLabel(defaultWorkloadSettings(3), 4)).toBe(false);
  });
});

describe('workload settings: PUT body validation', () => {
  it('accepts what Illumio clients send: scope [], null or left out; ven_type null; -1 for never; the href echoed back', () => {
    const checked = check({
      href: '/orgs/1/settings/workloads',
      workload_disconnected_timeout_seconds: [
        { scope: null, value: 7200, ven_type: null },
        { scope: [{ href: '/orgs/1/labels/5' }, { href: '/orgs/1/labels/2' }], value: -1 },
      ],
    });
    expect(checked.problems).toEqual([]);
    expect(checked.timeouts).toEqual({
      workload_disconnected_timeout_seconds: [
        { scope: [], value: 7200, venType: null },
        { scope: [2, 5], value: -1, venType: null },
      ],
    });
    expect(checked.labelRefs.map((r) => r.labelId)).toEqual([5, 2]);
    expect(check({ workload_goodbye_timeout_seconds: [{ value: 900 }] }).problems).toEqual([]);
  });

  it('allows one default per VEN type', () => {
    const checked = check({
      workload_disconnected_timeout_seconds: [
        { scope: [], value: 3600, ven_type: 'server' },
        { scope: [], value: -1, ven_type: 'endpoint' },
      ],
    });
    expect(checked.problems).toEqual([]);
  });

  it('rejects values that are not integers of at least -1, with the field named', () => {
    const errors = schemaErrors({
      workload_disconnected_timeout_seconds: [{ scope: [], value: 1.5 }, { scope: [], value: -2 }, { scope: [], value: '3600' }, { scope: [] }],
    });
    expect(errors).toEqual([
      { token: 'input_validation_error', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[0\]\.value: must be an integer/) },
      { token: 'input_validation_error', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[1\]\.value: must be -1 \(never\)/) },
      { token: 'input_validation_error', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[2\]\.value: must be an integer/) },
      { token: 'required_property_missing', message: 'workload_disconnected_timeout_seconds[3].value is required' },
    ]);
    expect(schemaErrors({ workload_goodbye_timeout_seconds: [{ value: 2 ** 31 }] })[0]?.message).toContain('at most');
  });

  it('rejects unknown fields at every level, a bad ven_type, a list that is not one, and an empty body', () => {
    const errors = schemaErrors({
      workload_disconnected_timeout_seconds: [{ scope: [{ href: '/orgs/1/labels/1', key: 'role' }], value: 60, ven_type: 'laptop', extra: true }],
      workload_goodbye_timeout_seconds: { value: 1 },
      online_timeout: 5,
    });
    const messages = errors.map((e) => e.message);
    expect(errors.filter((e) => e.token === 'unexpected_property').map((e) => e.message).sort()).toEqual([
      'online_timeout is not a recognised property',
      'workload_disconnected_timeout_seconds[0].extra is not a recognised property',
      'workload_disconnected_timeout_seconds[0].scope[0].key is not a recognised property',
    ]);
    expect(messages).toContain('workload_disconnected_timeout_seconds[0].ven_type: must be one of server, endpoint');
    expect(messages.some((m) => m.startsWith('workload_goodbye_timeout_seconds: must be a list'))).toBe(true);
    expect(schemaErrors({})).toEqual([{ token: 'input_validation_error', message: expect.stringContaining('send at least one of') }]);
    expect(schemaErrors([])[0]?.token).toBe('input_validation_error');
  });

  it('rejects scope hrefs that are not label hrefs of this org', () => {
    const { problems } = check({
      workload_disconnected_timeout_seconds: [
        { scope: [], value: 3600 },
        { scope: [{ href: '/orgs/2/labels/5' }], value: 60 },
        { scope: [{ href: '/orgs/1/label_groups/5' }], value: 60 },
        { scope: [{ href: 'role=web' }], value: 60 },
      ],
    });
    expect(problems).toEqual([
      { token: 'invalid_label_href', message: 'workload_disconnected_timeout_seconds[1].scope[0].href: "/orgs/2/labels/5" is not a label of org 1' },
      { token: 'invalid_label_href', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[2\]\.scope\[0\]\.href: "\/orgs\/1\/label_groups\/5" is not a label href/) },
      { token: 'invalid_label_href', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[3\]\.scope\[0\]\.href: "role=web" is not a label href/) },
    ]);
  });

  it('rejects duplicate scopes (in any order, per VEN type), a label twice in one scope, and more than one default', () => {
    const { problems } = check({
      workload_disconnected_timeout_seconds: [
        { scope: [], value: 3600 },
        { scope: [{ href: '/orgs/1/labels/1' }, { href: '/orgs/1/labels/2' }], value: 60 },
        { scope: [{ href: '/orgs/1/labels/2' }, { href: '/orgs/1/labels/1' }], value: 120 },
        { scope: [{ href: '/orgs/1/labels/2' }, { href: '/orgs/1/labels/1' }], value: 120, ven_type: 'server' },
        { scope: null, value: 60 },
        { scope: [{ href: '/orgs/1/labels/3' }, { href: '/orgs/1/labels/3' }], value: 60 },
      ],
      workload_goodbye_timeout_seconds: [
        { scope: [], value: 900, ven_type: 'server' },
        { value: 600, ven_type: 'server' },
      ],
    });
    expect(problems).toEqual([
      { token: 'duplicate_scope', message: 'workload_disconnected_timeout_seconds[2]: the same scope as workload_disconnected_timeout_seconds[1]' },
      { token: 'duplicate_default_scope', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[4\]: more than one default entry/) },
      { token: 'duplicate_scope_label', message: expect.stringMatching(/^workload_disconnected_timeout_seconds\[5\]\.scope\[1\]\.href: label \/orgs\/1\/labels\/3 is listed twice/) },
      { token: 'duplicate_default_scope', message: expect.stringMatching(/^workload_goodbye_timeout_seconds\[1\]: more than one default entry \(empty scope\) for server VENs/) },
    ]);
  });

  it('requires a default entry in every timer list it is given', () => {
    expect(check({ workload_goodbye_timeout_seconds: [] }).problems).toEqual([{ token: 'default_scope_required', message: expect.stringMatching(/^workload_goodbye_timeout_seconds: needs a default entry/) }]);
    expect(check({ workload_goodbye_timeout_seconds: [{ scope: [{ href: '/orgs/1/labels/1' }], value: 60 }] }).problems.map((p) => p.token)).toEqual(['default_scope_required']);
  });

  it('rejects an href that is not this resource', () => {
    expect(check({ href: '/orgs/2/settings/workloads', workload_goodbye_timeout_seconds: [{ value: 1 }] }).problems).toEqual([
      { token: 'input_validation_error', message: expect.stringMatching(/^href: must be \/orgs\/1\/settings\/workloads/) },
    ]);
  });

  it('caps the entries of a timer and the labels of a scope (the settings are one item: at most 400 KB), with a 406 naming the limit', () => {
    const entries = (n: number) => [{ scope: [], value: 1 }, ...Array.from({ length: n - 1 }, (_, i) => ({ scope: [{ href: `/orgs/1/labels/${i + 1}` }], value: 1 }))];
    expect(check({ workload_goodbye_timeout_seconds: entries(MAX_TIMEOUT_ENTRIES) }).problems).toEqual([]);
    expect(check({ workload_goodbye_timeout_seconds: entries(MAX_TIMEOUT_ENTRIES + 1) }).problems).toEqual([
      { token: 'too_many_timeout_entries', message: `workload_goodbye_timeout_seconds: ${MAX_TIMEOUT_ENTRIES + 1} entries; at most ${MAX_TIMEOUT_ENTRIES} per timer` },
    ]);

    const scope = (n: number) => Array.from({ length: n }, (_, i) => ({ href: `/orgs/1/labels/${i + 1}` }));
    expect(check({ workload_goodbye_timeout_seconds: [{ value: 1 }, { scope: scope(MAX_SCOPE_LABELS), value: 2 }] }).problems).toEqual([]);
    expect(check({ workload_goodbye_timeout_seconds: [{ value: 1 }, { scope: scope(MAX_SCOPE_LABELS + 1), value: 2 }] }).problems).toEqual([
      { token: 'too_many_scope_labels', message: `workload_goodbye_timeout_seconds[1].scope: ${MAX_SCOPE_LABELS + 1} labels; at most ${MAX_SCOPE_LABELS} per scope` },
    ]);
  });
});
