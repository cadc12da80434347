import { gzipSync } from 'node:zlib';

/** One member of a test archive: a file (default), a directory, or a raw header type. */
export interface TarMember {
  name: string;
  data?: string | Uint8Array;
  /** Header type flag: '0' file (default), '5' directory, 'L' GNU long name, 'x' pax header. */
  type?: string;
}

function header(name: string, size: number, type: string, prefix = ''): Uint8Array {
  const block = new Uint8Array(512);
  const put = (text: string, offset: number, length: number) => block.set(Buffer.from(text, 'utf8').subarray(0, length), offset);
  const octal = (value: number, offset: number, length: number) => put(value.toString(8).padStart(length - 1, '0') + '\0', offset, length);
  put(name, 0, 100);
  octal(0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(0, 136, 12);
  block.fill(0x20, 148, 156); // checksum counted as spaces
  put(type, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / 512) * 512);
  out.set(data);
  return out;
}

/**
 * A ustar archive of `members`. Names over 100 bytes get a GNU long-name record ('L') unless
 * `longNames` is 'pax' (a pax 'x' header) or 'prefix' (split into the ustar prefix field, where
 * the name allows it).
 */
export function makeTar(members: TarMember[], longNames: 'gnu' | 'pax' | 'prefix' = 'gnu'): Buffer {
  const parts: Uint8Array[] = [];
  for (const member of members) {
    const data = typeof member.data === 'string' ? Buffer.from(member.data, 'utf8') : (member.data ?? new Uint8Array(0));
    const type = member.type ?? '0';
    let name = member.name;
    let prefix = '';
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf('/', name.length - 2);
      if (longNames === 'prefix' && cut > 0 && cut <= 155 && name.length - cut - 1 <= 100) {
        [prefix, name] = [name.slice(0, cut), name.slice(cut + 1)];
      } else if (longNames === 'pax') {
        const record = (length: number) => `${length} path=${member.name}\n`;
        let length = record(0).length;
        while (record(length).length !== length) length = record(length).length;
        const pax = Buffer.from(record(length), 'utf8');
        parts.push(header('PaxHeader', pax.length, 'x'), padded(pax));
        name = name.slice(0, 100);
      } else {
        const long = Buffer.from(name + '\0', 'utf8');
        parts.push(header('././@LongLink', long.length, 'L'), padded(long));
        name = name.slice(0, 100);
      }
    }
    parts.push(header(name, data.length, type, prefix), padded(data));
  }
  parts.push(new Uint8Array(1024)); // end-of-archive: two zero blocks
  return Buffer.concat(parts);
}

/** `makeTar` gzipped. */
export function makeTarGz(members: TarMember[], longNames?: 'gnu' | 'pax' | 'prefix'): Buffer {
  return gzipSync(makeTar(members, longNames));
}
