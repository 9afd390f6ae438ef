-- tidemalloc real-program test: a deterministic SQL workload for sqlite3.
PRAGMA journal_mode = WAL;
PRAGMA cache_size = -20000;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, name TEXT NOT NULL, price REAL, note TEXT);
CREATE TABLE tag(item_id INTEGER REFERENCES item(id), tag TEXT NOT NULL);

WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150000)
INSERT INTO item(id, grp, name, price, note)
SELECT x, (x * 7919) % 1000, printf('item-%06d-%s', x, hex(x * x)), ((x * 104729) % 100000) / 100.0,
       substr('the quick brown fox jumps over the lazy dog', 1 + x % 20, 5 + x % 30) || x
FROM n;

WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000)
INSERT INTO tag(item_id, tag)
SELECT 1 + (x * 31) % 150000, CASE x % 5 WHEN 0 THEN 'red' WHEN 1 THEN 'green' WHEN 2 THEN 'blue' WHEN 3 THEN 'cyan' ELSE 'magenta' END
FROM n;

CREATE INDEX item_grp ON item(grp, price);
CREATE INDEX item_name ON item(name);
CREATE INDEX tag_item ON tag(item_id, tag);

SELECT 'counts', (SELECT count(*) FROM item), (SELECT count(*) FROM tag), (SELECT count(DISTINCT grp) FROM item);
SELECT grp, count(*), printf('%.2f', sum(price)), min(name), max(note) FROM item GROUP BY grp ORDER BY grp LIMIT 8;
SELECT t.tag, count(*), printf('%.2f', avg(i.price)) FROM tag t JOIN item i ON i.id = t.item_id GROUP BY t.tag ORDER BY t.tag;

-- Window functions.
SELECT grp, name, price, rnk FROM (
  SELECT grp, name, price, rank() OVER (PARTITION BY grp ORDER BY price DESC, id) AS rnk FROM item WHERE grp < 5
) WHERE rnk <= 3 ORDER BY grp, rnk;
SELECT id, printf('%.2f', sum(price) OVER (ORDER BY id ROWS BETWEEN 50 PRECEDING AND CURRENT ROW)) FROM item WHERE id % 10000 = 0 ORDER BY id;

-- Strings and aggregation into big values.
SELECT length(group_concat(upper(name), ',')), length(group_concat(replace(note, 'o', '00'), ';')) FROM item WHERE grp % 3 = 0;
SELECT count(*) FROM item WHERE name LIKE '%-0000%' OR note GLOB '*fox*';
SELECT substr(group_concat(name, ''), 1, 60) FROM (SELECT name FROM item ORDER BY name DESC LIMIT 200);

-- JSON.
SELECT length(json_group_array(json_object('id', id, 'name', name, 'tags', (SELECT json_group_array(tag) FROM tag WHERE item_id = item.id)))) FROM item WHERE id <= 5000;
SELECT json_extract(json_object('a', json_array(1, 2, json_object('b', 'deep'))), '$.a[2].b');

-- Updates, deletes, a temporary table, vacuum.
UPDATE item SET note = note || '-' || grp, price = price * 1.1 WHERE id % 7 = 0;
DELETE FROM tag WHERE tag = 'cyan' AND item_id % 2 = 0;
DELETE FROM item WHERE id % 13 = 0;
CREATE TEMP TABLE big AS SELECT grp, group_concat(name) AS names FROM item GROUP BY grp;
SELECT count(*), sum(length(names)) FROM big;
SELECT 'after', count(*), printf('%.2f', sum(price)), (SELECT count(*) FROM tag) FROM item;
PRAGMA wal_checkpoint(TRUNCATE);
PRAGMA journal_mode = DELETE;
VACUUM;
PRAGMA integrity_check;

-- A recursive CTE with large intermediate strings.
WITH RECURSIVE s(i, str) AS (SELECT 0, 'x' UNION ALL SELECT i + 1, str || printf('%d', i * i) FROM s WHERE i < 2000)
SELECT max(i), length(max(str)) FROM s;
SELECT 'sqlite workload done';
