/** The fleet governance layer's error type: what fails while opening the shared backend (Redis). */
import { CodedError } from '../../protocol/errors.js';

export type FleetErrorCode = 'unavailable'; // Redis cannot be reached at start

export class FleetError extends CodedError<FleetErrorCode> {
  constructor(code: FleetErrorCode, publicMessage: string, options?: { cause?: unknown }) {
    super(code, publicMessage, options);
    this.name = 'FleetError';
  }
}
