import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { InvalidRequestError } from './errors.js';

/**
 * Validates DTOs and reports every problem in one readable line naming the fields,
 * e.g. `port must be an integer between 1 and 65535; unknown field "pasword"`.
 */
export function requestValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new InvalidRequestError(describeValidationErrors(errors)),
  });
}

export function describeValidationErrors(errors: ValidationError[], parent = ''): string {
  const messages = errors.flatMap((error) => messagesOf(error, parent));
  return messages.length > 0 ? messages.join('; ') : 'the request is not valid';
}

function messagesOf(error: ValidationError, parent: string): string[] {
  const field = parent ? `${parent}.${error.property}` : error.property;
  const constraints = error.constraints ?? {};
  if (constraints.whitelistValidation) return [`unknown field "${field}"`];
  // Optional fields never fail when absent, so an absent value that failed is a required field.
  if (error.value === undefined && Object.keys(constraints).length > 0) return [`${field} is required`];
  // Several constraints often fail together (type, then range); the first says enough.
  const first = Object.values(constraints)[0];
  const own = first === undefined ? [] : [first];
  const nested = (error.children ?? []).flatMap((child) => messagesOf(child, field));
  return [...own, ...nested];
}
