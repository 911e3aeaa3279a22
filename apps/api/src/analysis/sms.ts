import { THRESHOLDS } from './constants.js';

// GSM 03.38 basic character set; the extension table's characters cost two septets (escape + char).
const GSM7_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENDED = new Set('\f^{}\\[~]|€');

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  length: number;
  segments: number;
}

/** How many SMS segments a body needs (§4.1 item 19). */
export function smsSegments(body: string): SmsSegments {
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM7_BASIC.has(ch)) septets += 1;
    else if (GSM7_EXTENDED.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) {
    const segments =
      septets === 0
        ? 0
        : septets <= THRESHOLDS.gsm7SingleSegment
          ? 1
          : Math.ceil(septets / THRESHOLDS.gsm7ConcatSegment);
    return { encoding: 'GSM-7', length: septets, segments };
  }
  const units = body.length;
  const segments = units <= THRESHOLDS.ucs2SingleSegment ? 1 : Math.ceil(units / THRESHOLDS.ucs2ConcatSegment);
  return { encoding: 'UCS-2', length: units, segments };
}
