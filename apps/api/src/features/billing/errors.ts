/** A billing failure with a stable code; `message` is safe to show, details stay in `cause`. */
export class BillingError extends Error {
  override readonly name = 'BillingError';
  constructor(
    readonly code:
      | 'BILLING_INVALID_OPTIONS'
      | 'BILLING_PRICE_NOT_CONFIGURED'
      | 'BILLING_NO_CUSTOMER'
      | 'BILLING_SUBSCRIPTION_EXISTS'
      | 'BILLING_LOCATION_REQUIRED'
      | 'STRIPE_UNAVAILABLE'
      | 'STRIPE_SIGNATURE_MISSING'
      | 'STRIPE_SIGNATURE_INVALID'
      | 'STRIPE_PAYLOAD_INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
