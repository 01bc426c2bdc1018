// utils/format.js - input checks and display helpers the pages share. The
// limits mirror the API's (functions/albums): checking here saves a round
// trip, the server still decides.

const NAME_MAX = 100;
const DESCRIPTION_MAX = 2000;
const TAG_MAX = 50;
const TAGS_MAX = 30;

// Code points, not UTF-16 units (the API counts characters).
function charCount(s) {
  return Array.from(s).length;
}

// {name, description} from a form -> {ok: true, value} with the name
// trimmed, or {ok: false, field, message}.
function validateAlbum(input) {
  const name = String((input && input.name) || '').trim();
  const description = String((input && input.description) || '');
  if (name === '') {
    return { ok: false, field: 'name', message: 'Please give the album a name.' };
  }
  if (charCount(name) > NAME_MAX) {
    return { ok: false, field: 'name', message: 'The name can be at most ' + NAME_MAX + ' characters.' };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return { ok: false, field: 'name', message: 'The name cannot contain control characters.' };
  }
  if (charCount(description) > DESCRIPTION_MAX) {
    return {
      ok: false, field: 'description',
      message: 'The description can be at most ' + DESCRIPTION_MAX + ' characters.',
    };
  }
  return { ok: true, value: { name, description } };
}

// "beach, 海边  sunset" -> ["beach", "海边", "sunset"]: split on commas
// (also the Chinese ones), semicolons and line breaks, trimmed, duplicates
// (ignoring case) dropped. {ok, tags} or {ok: false, message}.
function parseTags(text) {
  const seen = new Set();
  const tags = [];
  String(text || '').split(/[,，;；、\n]+/).forEach((raw) => {
    const t = raw.trim();
    if (t === '' || seen.has(t.toLowerCase())) return;
    seen.add(t.toLowerCase());
    tags.push(t);
  });
  const long = tags.find((t) => charCount(t) > TAG_MAX);
  if (long) return { ok: false, message: 'Each tag can be at most ' + TAG_MAX + ' characters.' };
  if (tags.length > TAGS_MAX) return { ok: false, message: 'At most ' + TAGS_MAX + ' tags.' };
  return { ok: true, tags };
}

function pad(n) {
  return n < 10 ? '0' + n : String(n);
}

// RFC 3339 -> "2024-05-01 08:30" in local time; "" for nothing.
function formatDate(s) {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return String(s);
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
    pad(d.getHours()) + ':' + pad(d.getMinutes());
}

// A photo as a grid cell shows it (album, trash).
function thumbView(p) {
  return {
    id: p.id,
    thumb: p.thumb_url || '',
    status: p.status,
    description: p.description || '',
  };
}

function formatBytes(n) {
  if (typeof n !== 'number' || n < 0) return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
  return (n / (1024 * 1024)).toFixed(1) + ' MB';
}

module.exports = {
  validateAlbum, parseTags, formatDate, formatBytes, thumbView,
  NAME_MAX, DESCRIPTION_MAX,
};
