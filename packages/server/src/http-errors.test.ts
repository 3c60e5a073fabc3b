import { ERROR_CODES, ERROR_CODE_INFO, TrestleError } from '@trestle/core';
import { describe, expect, it } from 'vitest';
import { describeValidation, INTERNAL_MESSAGE, toHttpError } from './http-errors.js';

describe('toHttpError', () => {
  it.each(ERROR_CODES.map((code) => [code]))('maps TrestleError %s through the code table', (code) => {
    const answer = toHttpError(new TrestleError(code, `it went ${code}`, { runId: 'r1' }));
    expect(answer.status).toBe(ERROR_CODE_INFO[code].http);
    expect(answer.body).toEqual({ error: { code, message: `it went ${code}`, details: { runId: 'r1' } } });
  });

  it('leaves details out when there are none', () => {
    expect(toHttpError(new TrestleError('NOT_FOUND', 'gone')).body).toEqual({
      error: { code: 'NOT_FOUND', message: 'gone' },
    });
  });

  it("keeps a Fastify request error's 4xx status with a matching code", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toHttpError(tooLarge, { bodyLimit: 1024 })).toMatchObject({
      status: 413,
      body: { error: { code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('1024 bytes') } },
      internal: false,
    });
    const media = Object.assign(new Error('Unsupported Media Type'), {
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    });
    expect(toHttpError(media)).toMatchObject({ status: 415, body: { error: { code: 'INVALID_ARGUMENT' } } });
  });

  it('hides anything unexpected behind a generic 500', () => {
    const answer = toHttpError(new Error('ENOSPC at /var/lib/secret'));
    expect(answer).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: INTERNAL_MESSAGE } },
      internal: true,
    });
    expect(toHttpError('a string').status).toBe(500);
    expect(toHttpError(Object.assign(new Error('x'), { statusCode: 502 })).status).toBe(500);
  });
});

describe('describeValidation', () => {
  it('names wrong types, missing and unknown fields', () => {
    const { message, errors } = describeValidation('body', [
      {
        keyword: 'boolean',
        instancePath: '/extra',
        schemaPath: '#/additionalProperties',
        params: {},
        message: 'schema is false',
      },
      {
        keyword: 'additionalProperties',
        instancePath: '',
        schemaPath: '#',
        params: { additionalProperties: ['extra'] },
        message: 'x',
      },
      {
        keyword: 'required',
        instancePath: '/tags/0',
        schemaPath: '#/x',
        params: { requiredProperties: ['value'] },
        message: 'x',
      },
      {
        keyword: 'type',
        instancePath: '/name',
        schemaPath: '#/properties/name',
        params: { type: 'string' },
        message: 'must be string',
      },
    ]);
    expect(message).toBe('body/extra is not a known field; body/tags/0/value is required; body/name must be string');
    expect(errors).toHaveLength(3);
  });

  it('summarises a union by what each branch wanted', () => {
    const at = { instancePath: '/v', message: 'x' };
    const { message } = describeValidation('body', [
      { ...at, keyword: 'type', schemaPath: '#/properties/v/anyOf/0', params: { type: 'number' } },
      { ...at, keyword: 'const', schemaPath: '#/properties/v/anyOf/1', params: { allowedValue: 'NaN' } },
      { ...at, keyword: 'anyOf', schemaPath: '#/properties/v', params: {} },
    ]);
    expect(message).toBe('body/v must be number or "NaN"');
  });

  it('lists at most five problems', () => {
    const many = Array.from({ length: 8 }, (_, i) => ({
      keyword: 'type',
      instancePath: `/f${i}`,
      schemaPath: '#',
      params: { type: 'string' },
      message: 'must be string',
    }));
    expect(describeValidation('body', many).message).toMatch(/body\/f4 must be string \(and 3 more\)$/);
  });
});
