import { describe, expect, it } from 'vitest';
import { isRole, roleAllows, ROLES, type Role } from './roles.js';

describe('roles', () => {
  it.each<[Role, Role, boolean]>([
    ['reader', 'reader', true],
    ['reader', 'editor', false],
    ['reader', 'admin', false],
    ['editor', 'reader', true],
    ['editor', 'editor', true],
    ['editor', 'admin', false],
    ['admin', 'reader', true],
    ['admin', 'editor', true],
    ['admin', 'admin', true],
  ])('%s may do what needs %s: %s', (role, needed, allowed) => {
    expect(roleAllows(role, needed)).toBe(allowed);
  });

  it('knows exactly the three roles', () => {
    expect(ROLES).toEqual(['reader', 'editor', 'admin']);
    for (const r of ROLES) expect(isRole(r)).toBe(true);
    for (const v of ['Admin', 'owner', '', undefined, 2]) expect(isRole(v)).toBe(false);
  });
});
