package engine

// Column types and flags of the MySQL protocol, as column definitions
// carry them.
const (
	TypeDecimal    byte = 0x00 // MYSQL_TYPE_DECIMAL
	TypeTiny       byte = 0x01 // MYSQL_TYPE_TINY
	TypeShort      byte = 0x02 // MYSQL_TYPE_SHORT
	TypeLong       byte = 0x03 // MYSQL_TYPE_LONG
	TypeFloat      byte = 0x04 // MYSQL_TYPE_FLOAT
	TypeDouble     byte = 0x05 // MYSQL_TYPE_DOUBLE
	TypeNull       byte = 0x06 // MYSQL_TYPE_NULL
	TypeTimestamp  byte = 0x07 // MYSQL_TYPE_TIMESTAMP
	TypeLonglong   byte = 0x08 // MYSQL_TYPE_LONGLONG
	TypeInt24      byte = 0x09 // MYSQL_TYPE_INT24
	TypeDate       byte = 0x0a // MYSQL_TYPE_DATE
	TypeTime       byte = 0x0b // MYSQL_TYPE_TIME
	TypeDatetime   byte = 0x0c // MYSQL_TYPE_DATETIME
	TypeYear       byte = 0x0d // MYSQL_TYPE_YEAR
	TypeNewdate    byte = 0x0e // MYSQL_TYPE_NEWDATE
	TypeVarchar    byte = 0x0f // MYSQL_TYPE_VARCHAR
	TypeBit        byte = 0x10 // MYSQL_TYPE_BIT
	TypeTimestamp2 byte = 0x11 // MYSQL_TYPE_TIMESTAMP2
	TypeDatetime2  byte = 0x12 // MYSQL_TYPE_DATETIME2
	TypeTime2      byte = 0x13 // MYSQL_TYPE_TIME2
	TypeJson       byte = 0xf5 // MYSQL_TYPE_JSON
	TypeNewdecimal byte = 0xf6 // MYSQL_TYPE_NEWDECIMAL
	TypeEnum       byte = 0xf7 // MYSQL_TYPE_ENUM
	TypeSet        byte = 0xf8 // MYSQL_TYPE_SET
	TypeTinyBlob   byte = 0xf9 // MYSQL_TYPE_TINY_BLOB
	TypeMediumBlob byte = 0xfa // MYSQL_TYPE_MEDIUM_BLOB
	TypeLongBlob   byte = 0xfb // MYSQL_TYPE_LONG_BLOB
	TypeBlob       byte = 0xfc // MYSQL_TYPE_BLOB
	TypeVarString  byte = 0xfd // MYSQL_TYPE_VAR_STRING
	TypeString     byte = 0xfe // MYSQL_TYPE_STRING
	TypeGeometry   byte = 0xff // MYSQL_TYPE_GEOMETRY
)

// Column definition flags.
const (
	FlagNotNull       uint16 = 0x1   // NOT_NULL_FLAG
	FlagPriKey        uint16 = 0x2   // PRI_KEY_FLAG
	FlagUniqueKey     uint16 = 0x4   // UNIQUE_KEY_FLAG
	FlagBlob          uint16 = 0x10  // BLOB_FLAG
	FlagUnsigned      uint16 = 0x20  // UNSIGNED_FLAG
	FlagZerofill      uint16 = 0x40  // ZEROFILL_FLAG
	FlagBinary        uint16 = 0x80  // BINARY_FLAG
	FlagEnum          uint16 = 0x100 // ENUM_FLAG
	FlagAutoIncrement uint16 = 0x200 // AUTO_INCREMENT_FLAG
	FlagTimestamp     uint16 = 0x400 // TIMESTAMP_FLAG
	FlagSet           uint16 = 0x800 // SET_FLAG
)
