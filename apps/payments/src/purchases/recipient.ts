import { InvalidRecipient } from '../errors.js'

/** A South African mobile number in E.164 form: +27 and 9 digits. */
const MOBILE = /^\+27\d{9}$/
/** A prepaid electricity meter number: 11 digits. */
const METER = /^\d{11}$/

/**
 * Who receives the product, checked against its category: airtime and data go to a mobile
 * number, electricity tokens to a meter; a voucher needs no recipient, and where one is given
 * it is the mobile number its PIN is also sent to. Returns the recipient to record.
 */
export function checkRecipient(category: string, recipient: string | undefined): string | null {
  switch (category) {
    case 'airtime':
    case 'data':
      return required(
        recipient,
        MOBILE,
        `A ${category} purchase needs the recipient's mobile number in E.164 form (+27 and 9 digits)`
      )
    case 'electricity':
      return required(
        recipient,
        METER,
        'An electricity purchase needs the 11-digit meter number as its recipient'
      )
    default:
      if (recipient === undefined) return null
      return required(
        recipient,
        MOBILE,
        "A voucher's recipient, when given, is the mobile number its PIN is sent to, in E.164 form (+27 and 9 digits)"
      )
  }
}

function required(recipient: string | undefined, pattern: RegExp, rule: string): string {
  if (recipient === undefined || !pattern.test(recipient)) throw new InvalidRecipient(rule)
  return recipient
}
