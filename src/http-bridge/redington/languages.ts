/**
 * Template languages: the document names them as its console shows them ("English (US)",
 * "Afrikaans"); WhatsApp wants its codes
 * (https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/supported-languages).
 * Either is taken; the name is kept for the answers, the code goes to WhatsApp.
 */
const BY_NAME: Readonly<Record<string, string>> = {
  afrikaans: 'af', albanian: 'sq', arabic: 'ar', azerbaijani: 'az', bengali: 'bn', bulgarian: 'bg', catalan: 'ca',
  'chinese (chn)': 'zh_CN', 'chinese (hkg)': 'zh_HK', 'chinese (tai)': 'zh_TW', croatian: 'hr', czech: 'cs', danish: 'da',
  dutch: 'nl', english: 'en', 'english (uk)': 'en_GB', 'english (us)': 'en_US', estonian: 'et', filipino: 'fil', finnish: 'fi',
  french: 'fr', georgian: 'ka', german: 'de', greek: 'el', gujarati: 'gu', hausa: 'ha', hebrew: 'he', hindi: 'hi', hungarian: 'hu',
  indonesian: 'id', irish: 'ga', italian: 'it', japanese: 'ja', kannada: 'kn', kazakh: 'kk', kinyarwanda: 'rw_RW', korean: 'ko',
  'kyrgyz (kyrgyzstan)': 'ky_KG', lao: 'lo', latvian: 'lv', lithuanian: 'lt', macedonian: 'mk', malay: 'ms', malayalam: 'ml',
  marathi: 'mr', norwegian: 'nb', persian: 'fa', polish: 'pl', 'portuguese (br)': 'pt_BR', 'portuguese (por)': 'pt_PT',
  punjabi: 'pa', romanian: 'ro', russian: 'ru', serbian: 'sr', slovak: 'sk', slovenian: 'sl', spanish: 'es', 'spanish (arg)': 'es_AR',
  'spanish (spa)': 'es_ES', 'spanish (mex)': 'es_MX', swahili: 'sw', swedish: 'sv', tamil: 'ta', telugu: 'te', thai: 'th',
  turkish: 'tr', ukrainian: 'uk', urdu: 'ur', uzbek: 'uz', vietnamese: 'vi', zulu: 'zu',
};
const CODES: ReadonlySet<string> = new Set(Object.values(BY_NAME));

/** WhatsApp's code for a language name or code, or undefined when WhatsApp has no such template language. */
export function languageCode(language: string): string | undefined {
  const named = BY_NAME[language.trim().toLowerCase()];
  if (named !== undefined) return named;
  return CODES.has(language) ? language : undefined;
}
