--
-- tpch_setup: the eight TPC-H tables, distributed (lineitem and orders
-- co-located on the order key, part and partsupp on the part key, customer,
-- supplier, nation and region on their keys) and as plain local copies
-- (<table>_local) with the same rows, for the tpch test.  The data is small
-- and generated deterministically in SQL: hashes of the row numbers stand
-- in for TPC-H's random generator, with TPC-H's value domains.
--
CREATE SCHEMA tpch;
SET search_path TO tpch, regress;

-- rnd(i, salt, n): a deterministic pseudo-random integer in [0, n)
CREATE FUNCTION rnd(i bigint, salt int, n int) RETURNS int
IMMUTABLE LANGUAGE sql AS $$ SELECT ((hashint8(i * 1009 + salt) % n + n) % n)::int $$;
-- pick(a, i, salt): a pseudo-random element of the array a
CREATE FUNCTION pick(a text[], i bigint, salt int) RETURNS text
IMMUTABLE LANGUAGE sql AS $$ SELECT a[1 + rnd(i, salt, cardinality(a))] $$;
-- the retail price of a part, as TPC-H defines it
CREATE FUNCTION retail_price(p int) RETURNS numeric
IMMUTABLE LANGUAGE sql AS $$ SELECT ((90000 + ((p / 10) % 20001) + 100 * (p % 1000)) / 100.0)::numeric(15,2) $$;
-- the i-th (0..3) supplier of a part, as TPC-H defines it (25 suppliers)
CREATE FUNCTION part_supplier(p int, i int) RETURNS int
IMMUTABLE LANGUAGE sql AS $$ SELECT (p + i * (25 / 4 + (p - 1) / 25)) % 25 + 1 $$;

CREATE TABLE region_local (r_regionkey int NOT NULL, r_name char(25) NOT NULL, r_comment varchar(152));
CREATE TABLE nation_local (n_nationkey int NOT NULL, n_name char(25) NOT NULL, n_regionkey int NOT NULL, n_comment varchar(152));
CREATE TABLE part_local (p_partkey int NOT NULL, p_name varchar(55) NOT NULL, p_mfgr char(25) NOT NULL,
	p_brand char(10) NOT NULL, p_type varchar(25) NOT NULL, p_size int NOT NULL,
	p_container char(10) NOT NULL, p_retailprice numeric(15,2) NOT NULL, p_comment varchar(23) NOT NULL);
CREATE TABLE supplier_local (s_suppkey int NOT NULL, s_name char(25) NOT NULL, s_address varchar(40) NOT NULL,
	s_nationkey int NOT NULL, s_phone char(15) NOT NULL, s_acctbal numeric(15,2) NOT NULL, s_comment varchar(101) NOT NULL);
CREATE TABLE partsupp_local (ps_partkey int NOT NULL, ps_suppkey int NOT NULL, ps_availqty int NOT NULL,
	ps_supplycost numeric(15,2) NOT NULL, ps_comment varchar(199) NOT NULL);
CREATE TABLE customer_local (c_custkey int NOT NULL, c_name varchar(25) NOT NULL, c_address varchar(40) NOT NULL,
	c_nationkey int NOT NULL, c_phone char(15) NOT NULL, c_acctbal numeric(15,2) NOT NULL,
	c_mktsegment char(10) NOT NULL, c_comment varchar(117) NOT NULL);
CREATE TABLE orders_local (o_orderkey int NOT NULL, o_custkey int NOT NULL, o_orderstatus char(1) NOT NULL,
	o_totalprice numeric(15,2) NOT NULL, o_orderdate date NOT NULL, o_orderpriority char(15) NOT NULL,
	o_clerk char(15) NOT NULL, o_shippriority int NOT NULL, o_comment varchar(79) NOT NULL);
CREATE TABLE lineitem_local (l_orderkey int NOT NULL, l_partkey int NOT NULL, l_suppkey int NOT NULL,
	l_linenumber int NOT NULL, l_quantity numeric(15,2) NOT NULL, l_extendedprice numeric(15,2) NOT NULL,
	l_discount numeric(15,2) NOT NULL, l_tax numeric(15,2) NOT NULL, l_returnflag char(1) NOT NULL,
	l_linestatus char(1) NOT NULL, l_shipdate date NOT NULL, l_commitdate date NOT NULL,
	l_receiptdate date NOT NULL, l_shipinstruct char(25) NOT NULL, l_shipmode char(10) NOT NULL,
	l_comment varchar(44) NOT NULL);

INSERT INTO region_local VALUES
	(0, 'AFRICA', 'lar deposits'), (1, 'AMERICA', 'hs use ironic requests'),
	(2, 'ASIA', 'ges. thinly even pinto beans'), (3, 'EUROPE', 'ly final courts'),
	(4, 'MIDDLE EAST', 'uickly special accounts');
INSERT INTO nation_local
SELECT n - 1, name, reg, 'nation comment ' || n
FROM unnest(ARRAY['ALGERIA', 'ARGENTINA', 'BRAZIL', 'CANADA', 'EGYPT', 'ETHIOPIA',
				  'FRANCE', 'GERMANY', 'INDIA', 'INDONESIA', 'IRAN', 'IRAQ', 'JAPAN',
				  'JORDAN', 'KENYA', 'MOROCCO', 'MOZAMBIQUE', 'PERU', 'CHINA', 'ROMANIA',
				  'SAUDI ARABIA', 'VIETNAM', 'RUSSIA', 'UNITED KINGDOM', 'UNITED STATES'],
			ARRAY[0, 1, 1, 1, 4, 0, 3, 3, 2, 2, 4, 4, 2, 4, 0, 0, 0, 1, 2, 3, 4, 2, 3, 3, 1])
	WITH ORDINALITY AS t(name, reg, n);

INSERT INTO part_local
SELECT p,
	   pick(c, p, 1) || ' ' || pick(c, p, 2) || ' ' || pick(c, p, 3) || ' ' || pick(c, p, 4) || ' ' || pick(c, p, 5),
	   'Manufacturer#' || m,
	   'Brand#' || m || (1 + rnd(p, 6, 5)),
	   pick('{STANDARD,SMALL,MEDIUM,LARGE,ECONOMY,PROMO}', p, 7) || ' ' ||
	   pick('{ANODIZED,BURNISHED,PLATED,POLISHED,BRUSHED}', p, 8) || ' ' ||
	   pick('{TIN,NICKEL,BRASS,STEEL,COPPER}', p, 9),
	   1 + rnd(p, 10, 50),
	   pick('{SM,LG,MED,JUMBO,WRAP}', p, 11) || ' ' || pick('{CASE,BOX,BAG,JAR,PKG,PACK,CAN,DRUM}', p, 12),
	   retail_price(p),
	   'part comment ' || p
FROM generate_series(1, 400) p,
	 LATERAL (SELECT 1 + rnd(p, 0, 5) AS m) mm,
	 LATERAL (SELECT '{almond,antique,aquamarine,azure,beige,bisque,black,blanched,blue,blush,brown,burlywood,chartreuse,chocolate,coral,cornflower,cream,cyan,dark,forest,green,lime,navy,olive,orange,red,rose,tan,white,yellow}'::text[] AS c) cc;

INSERT INTO supplier_local
SELECT s, 'Supplier#' || lpad(s::text, 9, '0'), 'address ' || s, s % 25,
	   (10 + s % 25) || '-' || (100 + rnd(s, 20, 900)) || '-' || (100 + rnd(s, 21, 900)) || '-' || (1000 + rnd(s, 22, 9000)),
	   (-99999 + rnd(s, 23, 1100000)) / 100.0,
	   CASE WHEN s % 10 = 3 THEN 'careful Customer slyly Complaints' ELSE 'supplier comment ' || s END
FROM generate_series(1, 25) s;

INSERT INTO partsupp_local
SELECT p, part_supplier(p, i), 1 + rnd(p * 4 + i, 30, 9999), (100 + rnd(p * 4 + i, 31, 99901)) / 100.0,
	   'partsupp comment ' || p || ' ' || i
FROM generate_series(1, 400) p, generate_series(0, 3) i;

INSERT INTO customer_local
SELECT c, 'Customer#' || lpad(c::text, 9, '0'), 'address ' || c, n,
	   (10 + n) || '-' || (100 + rnd(c, 40, 900)) || '-' || (100 + rnd(c, 41, 900)) || '-' || (1000 + rnd(c, 42, 9000)),
	   (-99999 + rnd(c, 43, 1100000)) / 100.0,
	   pick('{AUTOMOBILE,BUILDING,FURNITURE,HOUSEHOLD,MACHINERY}', c, 44),
	   'customer comment ' || c
FROM generate_series(1, 300) c, LATERAL (SELECT rnd(c, 45, 25) AS n) nn;

-- customers whose key is a multiple of 3 place no orders, as in TPC-H
INSERT INTO orders_local
SELECT o, CASE WHEN c % 3 = 0 THEN c + 1 ELSE c END, 'O', 0,
	   date '1992-01-01' + rnd(o, 51, 2405),
	   pick('{1-URGENT,2-HIGH,3-MEDIUM,4-NOT SPECIFIED,5-LOW}', o, 52),
	   'Clerk#' || lpad((1 + rnd(o, 53, 50))::text, 9, '0'), 0,
	   CASE WHEN o % 17 = 0 THEN 'blithely special packages requests' ELSE 'order comment ' || o END
FROM generate_series(1, 1500) o, LATERAL (SELECT 1 + rnd(o, 50, 299) AS c) cc;

INSERT INTO lineitem_local
SELECT o_orderkey, p, part_supplier(p, rnd(o_orderkey * 8 + l, 61, 4)), l, q,
	   q * retail_price(p), rnd(o_orderkey * 8 + l, 62, 11) / 100.0, rnd(o_orderkey * 8 + l, 63, 9) / 100.0,
	   CASE WHEN receipt <= date '1995-06-17' THEN pick('{R,A}', o_orderkey * 8 + l, 64) ELSE 'N' END,
	   CASE WHEN ship > date '1995-06-17' THEN 'O' ELSE 'F' END,
	   ship, o_orderdate + 30 + rnd(o_orderkey * 8 + l, 65, 61), receipt,
	   pick('{DELIVER IN PERSON,COLLECT COD,NONE,TAKE BACK RETURN}', o_orderkey * 8 + l, 66),
	   pick('{REG AIR,AIR,RAIL,SHIP,TRUCK,MAIL,FOB}', o_orderkey * 8 + l, 67),
	   'lineitem comment ' || o_orderkey || ' ' || l
FROM orders_local,
	 LATERAL generate_series(1, 1 + rnd(o_orderkey, 60, 7)) l,
	 LATERAL (SELECT 1 + rnd(o_orderkey * 8 + l, 68, 400) AS p, 1 + rnd(o_orderkey * 8 + l, 69, 50) AS q,
					 o_orderdate + 1 + rnd(o_orderkey * 8 + l, 70, 121) AS ship) v,
	 LATERAL (SELECT ship + 1 + rnd(o_orderkey * 8 + l, 71, 30) AS receipt) r;

UPDATE orders_local SET
	o_totalprice = t.total,
	o_orderstatus = CASE WHEN t.open = t.lines THEN 'O' WHEN t.open = 0 THEN 'F' ELSE 'P' END
FROM (SELECT l_orderkey, sum(l_extendedprice * (1 + l_tax) * (1 - l_discount))::numeric(15,2) AS total,
			 count(*) FILTER (WHERE l_linestatus = 'O') AS open, count(*) AS lines
	  FROM lineitem_local GROUP BY l_orderkey) t
WHERE t.l_orderkey = o_orderkey;

-- the distributed tables, with the same rows
CREATE TABLE region (LIKE region_local);
CREATE TABLE nation (LIKE nation_local);
CREATE TABLE part (LIKE part_local);
CREATE TABLE supplier (LIKE supplier_local);
CREATE TABLE partsupp (LIKE partsupp_local);
CREATE TABLE customer (LIKE customer_local);
CREATE TABLE orders (LIKE orders_local);
CREATE TABLE lineitem (LIKE lineitem_local);
INSERT INTO region SELECT * FROM region_local;
INSERT INTO nation SELECT * FROM nation_local;
INSERT INTO part SELECT * FROM part_local;
INSERT INTO supplier SELECT * FROM supplier_local;
INSERT INTO partsupp SELECT * FROM partsupp_local;
INSERT INTO customer SELECT * FROM customer_local;
INSERT INTO orders SELECT * FROM orders_local;
INSERT INTO lineitem SELECT * FROM lineitem_local;
SELECT distdb.create_distributed_table('orders', 'o_orderkey', 8);
SELECT distdb.create_distributed_table('lineitem', 'l_orderkey', 8, colocate_with => 'orders');
SELECT distdb.create_distributed_table('part', 'p_partkey', 8, colocate_with => 'none');
SELECT distdb.create_distributed_table('partsupp', 'ps_partkey', 8, colocate_with => 'part');
SELECT distdb.create_distributed_table('customer', 'c_custkey', 8, colocate_with => 'none');
SELECT distdb.create_distributed_table('supplier', 's_suppkey', 8, colocate_with => 'none');
SELECT distdb.create_distributed_table('nation', 'n_nationkey', 4, colocate_with => 'none');
SELECT distdb.create_distributed_table('region', 'r_regionkey', 4, colocate_with => 'none');
ANALYZE;
SELECT count(*) AS lineitems FROM lineitem_local;
SELECT (SELECT count(*) FROM lineitem) = (SELECT count(*) FROM lineitem_local) AS same_lineitems,
	   (SELECT count(*) FROM orders) = (SELECT count(*) FROM orders_local) AS same_orders;
